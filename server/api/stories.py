"""Class and school stories, the feed and likes: ``/api/classes/{id}/posts``, ``/api/school/posts``,
``/api/feed``, ``/api/posts/{id}`` and ``/api/posts/{id}/like(s)``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api import replies
from server.api.http import MAX_ID, authenticate, ok, page_params, parse, path_id, services_of
from server.api.openapi import describe
from server.auth.principal import require_role
from server.db.models import Post
from server.language.view import routes_of
from server.media import discard_files
from server.school.access import get_class
from server.stories import feed, likes
from server.stories import posts as stories

Ids: list[int] = Field(default_factory=list, max_length=100)
OptionalIds = Field(default=None, max_length=100)
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


class PostBody(BaseModel):
    text: str = Field(default="", max_length=stories.MAX_TEXT)
    media_ids: list[RowId] = Ids
    student_ids: list[RowId] = Ids


class PostPatch(BaseModel):
    text: str | None = Field(default=None, max_length=stories.MAX_TEXT)
    media_ids: list[RowId] | None = OptionalIds
    student_ids: list[RowId] | None = OptionalIds


def _page(items: list[dict[str, Any]], posts: list[Post], limit: int) -> dict[str, Any]:
    next_before = posts[-1].id if len(posts) == limit else None
    return {"items": items, "next_before": next_before}


async def _create_post(request: Request, *, in_class: bool) -> Response:
    """A class story post (class id from the path) or a school story post."""
    principal = await authenticate(request)
    require_role(principal, "staff")
    body = await parse(request, PostBody)
    services = services_of(request)
    async with services.transaction() as session:
        school_class = await get_class(session, principal, path_id(request)) if in_class else None
        _, shape = await stories.create_post(
            session,
            principal,
            school_class,
            text=body.text,
            media_ids=body.media_ids,
            student_ids=body.student_ids,
            now=services.clock(),
            routes=routes_of(services),
        )
    return ok(shape, 201)


@describe(responses={201: replies.Post}, creates="/api/posts/{id}")
async def create_class_post(request: Request) -> Response:
    return await _create_post(request, in_class=True)


@describe(responses={201: replies.Post}, creates="/api/posts/{id}")
async def create_school_post(request: Request) -> Response:
    return await _create_post(request, in_class=False)


@describe(responses={200: replies.PostPage})
async def list_class_posts(request: Request) -> Response:
    principal = await authenticate(request)
    before, limit = page_params(request)
    services = services_of(request)
    async with services.read() as session:
        school_class = await get_class(session, principal, path_id(request))
        posts = await feed.class_posts(session, school_class, before, limit, principal.id)
        items = await stories.shape_posts(session, posts, principal, routes_of(services))
    return ok(_page(items, posts, limit))


@describe(responses={200: replies.PostPage})
async def list_school_posts(request: Request) -> Response:
    principal = await authenticate(request)
    before, limit = page_params(request)
    services = services_of(request)
    async with services.read() as session:
        posts = await feed.school_posts(session, principal.school_id, before, limit, principal.id)
        items = await stories.shape_posts(session, posts, principal, routes_of(services))
    return ok(_page(items, posts, limit))


@describe(responses={200: replies.PostPage})
async def get_feed(request: Request) -> Response:
    principal = await authenticate(request)
    before, limit = page_params(request)
    services = services_of(request)
    async with services.read() as session:
        posts = await feed.feed_for(session, principal, before, limit)
        items = await stories.shape_posts(session, posts, principal, routes_of(services))
    return ok(_page(items, posts, limit))


@describe(responses={200: replies.Post})
async def get_post(request: Request) -> Response:
    principal = await authenticate(request)
    services = services_of(request)
    async with services.read() as session:
        post = await stories.get_post(session, principal, path_id(request))
        shape = (await stories.shape_posts(session, [post], principal, routes_of(services)))[0]
    return ok(shape)


@describe(responses={200: replies.Post})
async def patch_post(request: Request) -> Response:
    principal = await authenticate(request)
    body = await parse(request, PostPatch)
    services = services_of(request)
    async with services.transaction() as session:
        post = await stories.get_post(session, principal, path_id(request))
        post, discarded = await stories.update_post(
            session, principal, post, body.model_dump(exclude_unset=True), services.clock()
        )
        shape = (await stories.shape_posts(session, [post], principal, routes_of(services)))[0]
    await discard_files(services, discarded)
    return ok(shape)


@describe(responses={200: replies.Deleted})
async def delete_post(request: Request) -> Response:
    principal = await authenticate(request)
    services = services_of(request)
    async with services.transaction() as session:
        post = await stories.get_post(session, principal, path_id(request))
        discarded = await stories.delete_post(session, principal, post)
    await discard_files(services, discarded)
    return ok({"deleted": True})


async def _set_like(request: Request, liked: bool) -> Response:
    principal = await authenticate(request)
    services = services_of(request)
    async with services.transaction() as session:
        post = await stories.get_post(session, principal, path_id(request))
        count = await likes.set_like(session, principal, post, liked, services.clock())
    return ok({"like_count": count, "liked": liked})


@describe(responses={200: replies.Like})
async def like_post(request: Request) -> Response:
    return await _set_like(request, True)


@describe(responses={200: replies.Like})
async def unlike_post(request: Request) -> Response:
    return await _set_like(request, False)


async def list_likes(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "staff")
    services = services_of(request)
    async with services.read() as session:
        post = await stories.get_post(session, principal, path_id(request))
        items = await likes.likes_of(session, principal, post)
    return ok({"items": items, "like_count": len(items)})


routes = [
    Route("/api/classes/{id:int}/posts", list_class_posts, methods=["GET"]),
    Route("/api/classes/{id:int}/posts", create_class_post, methods=["POST"]),
    Route("/api/school/posts", list_school_posts, methods=["GET"]),
    Route("/api/school/posts", create_school_post, methods=["POST"]),
    Route("/api/feed", get_feed, methods=["GET"]),
    Route("/api/posts/{id:int}", get_post, methods=["GET"]),
    Route("/api/posts/{id:int}", patch_post, methods=["PATCH"]),
    Route("/api/posts/{id:int}", delete_post, methods=["DELETE"]),
    Route("/api/posts/{id:int}/like", like_post, methods=["PUT"]),
    Route("/api/posts/{id:int}/like", unlike_post, methods=["DELETE"]),
    Route("/api/posts/{id:int}/likes", list_likes, methods=["GET"]),
]
