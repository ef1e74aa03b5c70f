"""The translation pipeline: committed posts and messages in, one job per needed language out.

When a post is committed, the languages needed are the distinct preferred
languages of its audience other than the post's own; when a message is committed,
those of the conversation's two members. Each job translates every sentence of the
item in one batch through the cache (so a repeated text is never translated twice),
then emits ``post.translated`` (or ``message.translated``) to the readers of that
language only. Office routing borrows the same cached path
(:meth:`Pipeline.translate_for_routing`).

Teachers' comments on portfolio items go to the pupil's family (``portfolio.translated``);
an activity's title and instructions, written in their author's language, go to the
class's readers (``activity.translated`` on ``class:{id}``, one event per field).

The pipeline learns about commits by watching the events they emit (``post.created``,
``post.updated``, ``message.created``, ``portfolio.approved``/``returned``,
``activity.created``/``updated``), so the domain modules only emit their events.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import CompoundSelect, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import STAFF_ROLES
from server.db.models import (
    Activity,
    Conversation,
    GuardianLink,
    Message,
    OutboxEvent,
    Post,
    School,
    SchoolClass,
    SchoolEvent,
    Skill,
    Student,
    Submission,
    User,
)
from server.events import class_channel, emit, school_channel, student_channel, user_channel
from server.language import stored as cache
from server.observability import metrics
from server.services import Services
from server.translation import calendar_items, terms
from server.translation.engine import EngineError, UnsupportedPair
from server.translation.queue import Job, JobQueue
from server.translation.registry import Registry

log = logging.getLogger("homeroom.translation")

KINDS = ("post", "message", "comment", "activity", "event", "absence")
JOB_ATTEMPTS = 3
# At start-up the newest this many posts and messages are checked for translations still missing.
CATCH_UP_ITEMS = 1000
# Planning tasks that may read the database at once. Planning runs off the request path, one
# task per committed post or message: unbounded, a burst of messages would have as many tasks
# as messages waiting for the connection pool alongside the requests, and starve them.
PLANNING_CONNECTIONS = 3
Listener = Callable[[Job, "Result"], None]


@dataclass(frozen=True)
class Result:
    """A finished translation: the text, the engine that made it, and whether it came from the cache."""

    text: str
    engine: str
    cached: bool


# -- who needs which language (pure and SQL helpers) ------------------------------------------------


def needed_languages(languages: Iterable[str | None], source: str) -> set[str]:
    """The distinct reader languages other than the source (empty and missing ones dropped)."""
    return {code for code in languages if code and code != source}


async def class_audience_languages(session: AsyncSession, school_id: int, class_id: int) -> set[str]:
    """Preferred languages of a class's readers: its pupils, their families and the school's staff."""
    families = (
        select(User.language)
        .join(GuardianLink, GuardianLink.guardian_id == User.id)
        .join(Student, Student.id == GuardianLink.student_id)
        .where(Student.class_id == class_id, Student.left_at.is_(None))
    )
    pupils = (
        select(User.language)
        .join(Student, Student.user_id == User.id)
        .where(Student.class_id == class_id, Student.left_at.is_(None))
    )
    staff = select(User.language).where(User.school_id == school_id, User.role.in_(STAFF_ROLES))
    return set((await session.scalars(families.union(pupils, staff))).all())


async def activity_language(session: AsyncSession, activity: Activity) -> str:
    """The language an activity was written in: its author's preferred language."""
    if activity.created_by is None:
        return "en"
    return await session.scalar(select(User.language).where(User.id == activity.created_by)) or "en"


async def post_audience_languages(session: AsyncSession, post: Post) -> set[str]:
    """Preferred languages of everyone who reads a post: its class's families and pupils, or the school."""
    query: Select[str] | CompoundSelect[str]
    if post.scope == "class" and post.class_id is not None:
        return await class_audience_languages(session, post.school_id, post.class_id)
    else:
        query = select(User.language).where(User.school_id == post.school_id).distinct()
    rows = await session.scalars(query)
    return set(rows.all())


async def conversation_languages(session: AsyncSession, conversation_id: int) -> dict[int, str]:
    """The two members of a conversation and their preferred languages."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        return {}
    ids = [uid for uid in (conversation.guardian_id, conversation.staff_id) if uid is not None]
    rows = await session.execute(select(User.id, User.language).where(User.id.in_(ids)))
    return {uid: language for uid, language in rows.all()}


async def office_languages(session: AsyncSession, conversation_id: int) -> set[str]:
    """Preferred languages of the school office staff (who read messages routed to the office)."""
    school_id = select(Conversation.school_id).where(Conversation.id == conversation_id).scalar_subquery()
    rows = await session.scalars(
        select(User.language).where(User.school_id == school_id, User.role == "office").distinct()
    )
    return set(rows.all())


async def protected_terms(session: AsyncSession, school_id: int) -> tuple[str, ...]:
    """What a school keeps untranslated: pupils' and staff names, its name, ways, classes, glossary."""
    school = await session.get(School, school_id)
    if school is None:
        return ()
    staff = await session.scalars(
        select(User.name).where(User.school_id == school_id, User.role.in_(STAFF_ROLES))
    )
    pupils = (
        await session.execute(
            select(Student.first_name, Student.last_name).where(
                Student.school_id == school_id, Student.left_at.is_(None)
            )
        )
    ).all()
    pupil_names = [first for first, _ in pupils]
    pupil_names += [f"{first} {last.strip()[:1]}." for first, last in pupils if last.strip()]
    classes = await session.scalars(select(SchoolClass.name).where(SchoolClass.school_id == school_id))
    skills = await session.scalars(
        select(Skill.name).where(Skill.school_id == school_id, Skill.archived.is_(False))
    )
    return terms.school_terms(
        school_name=school.name,
        staff_names=staff.all(),
        pupil_names=pupil_names,
        class_names=classes.all(),
        skill_names=skills.all(),
        glossary=school.translation_glossary or (),
    )


async def comment_readers(session: AsyncSession, submission: Submission) -> set[str]:
    """Preferred languages of who reads a teacher's comment on a portfolio item: the pupil's family."""
    guardians = (
        select(User.language)
        .join(GuardianLink, GuardianLink.guardian_id == User.id)
        .where(GuardianLink.student_id == submission.student_id)
    )
    pupil = (
        select(User.language)
        .join(Student, Student.user_id == User.id)
        .where(Student.id == submission.student_id)
    )
    return set((await session.scalars(guardians.union(pupil))).all())


async def comment_language(session: AsyncSession, submission: Submission) -> str:
    """The language a comment was written in: its author's preferred language."""
    if submission.decided_by is None:
        return "en"
    return await session.scalar(select(User.language).where(User.id == submission.decided_by)) or "en"


async def item_school(session: AsyncSession, kind: str, item_id: int) -> int | None:
    """The school a post, message or portfolio comment belongs to."""
    if kind in ("event", "absence"):
        return await calendar_items.item_school(session, kind, item_id)
    if kind == "post":
        return await session.scalar(select(Post.school_id).where(Post.id == item_id))
    if kind == "comment":
        return await session.scalar(select(Submission.school_id).where(Submission.id == item_id))
    if kind == "activity":
        return await session.scalar(select(Activity.school_id).where(Activity.id == item_id))
    return await session.scalar(
        select(Conversation.school_id)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(Message.id == item_id)
    )


def post_channel(post: Post) -> str:
    """The live channel a post's events go to."""
    if post.scope == "class" and post.class_id is not None:
        return class_channel(post.class_id)
    return school_channel(post.school_id)


# -- the pipeline ---------------------------------------------------------------------------------------


class Pipeline:
    """Turns committed items into jobs, does jobs through the cache, and tells readers."""

    def __init__(self, services: Services, registry: Registry, queue: JobQueue) -> None:
        self.services = services
        self.registry = registry
        self.queue = queue
        self.coalescer = cache.Coalescer()
        self.engine_calls = 0
        self.listeners: list[Listener] = []
        self._lock: cache.RedisLock | None = None
        redis = services.redis
        if redis is not None:
            # A dead holder's lock must not outlive the time after which its job is claimed again.
            ttl = max(1.0, min(5.0, services.settings.translation_claim_seconds))
            self._lock = cache.RedisLock(redis, services.settings.redis_prefix, ttl_seconds=ttl)
        self._recent: OrderedDict[tuple[str, int, str, str], float] = OrderedDict()
        self._planning: set[asyncio.Task[None]] = set()
        self._planning_slots = asyncio.Semaphore(PLANNING_CONNECTIONS)

    # -- requests ---------------------------------------------------------------------------------

    async def request_translations(
        self, kind: str, item_id: int, text: str, source: str, languages: set[str]
    ) -> int:
        """Queue one job per language that needs one and some engine serves; return how many."""
        if kind not in KINDS:
            raise ValueError(f"unknown item kind {kind!r}")
        if not text.strip():
            return 0
        digest = cache.content_hash(text)
        now = time.monotonic()
        jobs = []
        for target in sorted(needed_languages(languages, source)):
            if not self.registry.can_translate(source, target):
                continue  # readers see "unavailable"
            key = (kind, item_id, digest, target)
            if now - self._recent.get(key, -1e9) < 600:
                continue  # the same request moments ago (an event seen twice)
            self._recent[key] = now
            jobs.append(Job(kind=kind, item_id=item_id, text=text, source=source, target=target))
        while len(self._recent) > 10_000:
            self._recent.popitem(last=False)
        await self.queue.put(jobs)
        return len(jobs)

    async def request_for_post(self, post_id: int) -> int:
        """Queue the jobs a committed (new or edited) post needs."""
        async with self.services.read() as session:
            post = await session.get(Post, post_id)
            if post is None:
                return 0
            languages = await post_audience_languages(session, post)
            text, source = post.text, post.lang
        return await self.request_translations("post", post_id, text, source, languages)

    async def request_for_message(self, message_id: int) -> int:
        """Queue the jobs a committed message needs (the other member's language)."""
        async with self.services.read() as session:
            message = await session.get(Message, message_id)
            if message is None or message.system:
                return 0
            members = await conversation_languages(session, message.conversation_id)
            languages = {lang for uid, lang in members.items() if uid != message.sender_id}
            if message.topic:  # routed to the office: its inbox is read in the office's languages too
                languages |= await office_languages(session, message.conversation_id)
            text, source = message.text, message.lang
        return await self.request_translations("message", message_id, text, source, languages)

    async def request_for_comment(self, submission_id: int) -> int:
        """Queue the jobs a teacher's comment on a portfolio item needs (the pupil's family)."""
        async with self.services.read() as session:
            submission = await session.get(Submission, submission_id)
            if submission is None or not submission.comment.strip():
                return 0
            languages = await comment_readers(session, submission)
            source = await comment_language(session, submission)
            text = submission.comment
        return await self.request_translations("comment", submission_id, text, source, languages)

    async def request_for_activity(self, activity_id: int) -> int:
        """Queue the jobs an activity's title and instructions need (its class's readers)."""
        async with self.services.read() as session:
            activity = await session.get(Activity, activity_id)
            if activity is None:
                return 0
            languages = await class_audience_languages(session, activity.school_id, activity.class_id)
            source = await activity_language(session, activity)
            texts = (activity.title, activity.instructions)
        queued = 0
        for text in texts:
            queued += await self.request_translations("activity", activity_id, text, source, languages)
        return queued

    async def request_for_calendar(self, kind: str, item_id: int) -> int:
        """Queue the jobs an event's title and details, or an absence's note, need."""
        async with self.services.read() as session:
            texts = calendar_items.event_texts if kind == "event" else calendar_items.absence_texts
            found = await texts(session, item_id)
        if found is None:
            return 0
        fields, source, languages = found
        queued = 0
        for text in fields:
            queued += await self.request_translations(kind, item_id, text, source, languages)
        return queued

    def observe(self, rows: list[OutboxEvent]) -> None:
        """Plan jobs for the posts and messages in just-committed events, off the request path."""
        wanted: dict[tuple[str, int], None] = {}
        for row in rows:
            data = row.data or {}
            if row.type in ("post.created", "post.updated") and isinstance(data.get("post"), dict):
                item_id, lang = data["post"].get("id"), data["post"].get("lang")
                # When no engine reads the post's language no reader can be offered a translation,
                # so its audience is not looked up at all (most of a post's planning cost).
                readable = not isinstance(lang, str) or self.registry.translates_from(lang)
                if isinstance(item_id, int) and readable:
                    wanted[("post", item_id)] = None
            elif row.type in ("portfolio.approved", "portfolio.returned") and isinstance(
                data.get("item"), dict
            ):
                item_id = data["item"].get("id")
                if isinstance(item_id, int) and data["item"].get("comment"):
                    wanted[("comment", item_id)] = None
            elif row.type in ("activity.created", "activity.updated") and isinstance(
                data.get("activity"), dict
            ):
                item_id = data["activity"].get("id")
                if isinstance(item_id, int):
                    wanted[("activity", item_id)] = None
            elif row.type in ("event.created", "event.updated") and isinstance(data.get("event"), dict):
                item_id = data["event"].get("id")
                if isinstance(item_id, int):
                    wanted[("event", item_id)] = None
            elif row.type == "absence.reported" and isinstance(data.get("absence"), dict):
                item_id = data["absence"].get("id")
                if isinstance(item_id, int) and data["absence"].get("note"):
                    wanted[("absence", item_id)] = None
            elif row.type == "message.created" and isinstance(data.get("message"), dict):
                item_id = data["message"].get("id")
                if isinstance(item_id, int) and not data["message"].get("system"):
                    wanted[("message", item_id)] = None
        for kind, item_id in wanted:
            task = asyncio.create_task(self._plan(kind, item_id), name=f"translation-plan-{kind}-{item_id}")
            self._planning.add(task)
            task.add_done_callback(self._planning.discard)

    async def catch_up(self, limit: int = CATCH_UP_ITEMS) -> int:
        """Queue the jobs recent posts, messages, comments, activities and events still need; return how many.

        Translations nobody asked for are never made: rows written without an event
        (the demo's seeded week, an import) and jobs an in-process queue lost when the
        server stopped would otherwise stay "pending" for good. The newest ``limit``
        posts, messages and commented portfolio items are checked against the cache.
        """
        wanted: list[tuple[str, int, str, str, set[str]]] = []
        async with self.services.read() as session:
            posts = (await session.scalars(select(Post).order_by(Post.id.desc()).limit(limit))).all()
            audiences: dict[tuple[str, int | None, int], set[str]] = {}
            for post in posts:
                key = (post.scope, post.class_id, post.school_id)
                if key not in audiences:
                    audiences[key] = await post_audience_languages(session, post)
                wanted.append(("post", post.id, post.text, post.lang, audiences[key]))
            messages = (
                await session.scalars(
                    select(Message).where(Message.system.is_(False)).order_by(Message.id.desc()).limit(limit)
                )
            ).all()
            members: dict[int, dict[int, str]] = {}
            offices: dict[int, set[str]] = {}
            for message in messages:
                conversation_id = message.conversation_id
                if conversation_id not in members:
                    members[conversation_id] = await conversation_languages(session, conversation_id)
                languages = {
                    lang for uid, lang in members[conversation_id].items() if uid != message.sender_id
                }
                if message.topic:
                    if conversation_id not in offices:
                        offices[conversation_id] = await office_languages(session, conversation_id)
                    languages |= offices[conversation_id]
                wanted.append(("message", message.id, message.text, message.lang, languages))
            commented = (
                await session.scalars(
                    select(Submission)
                    .where(Submission.comment != "")
                    .order_by(Submission.id.desc())
                    .limit(limit)
                )
            ).all()
            for submission in commented:
                languages = await comment_readers(session, submission)
                source = await comment_language(session, submission)
                wanted.append(("comment", submission.id, submission.comment, source, languages))
            activities = (
                await session.scalars(select(Activity).order_by(Activity.id.desc()).limit(limit))
            ).all()
            classes: dict[int, set[str]] = {}
            for activity in activities:
                if activity.class_id not in classes:
                    classes[activity.class_id] = await class_audience_languages(
                        session, activity.school_id, activity.class_id
                    )
                source = await activity_language(session, activity)
                for text in (activity.instructions, activity.title):  # reversed below: title first
                    wanted.append(("activity", activity.id, text, source, classes[activity.class_id]))
            events = (
                await session.scalars(
                    select(SchoolEvent.id)
                    .where(SchoolEvent.cancelled_at.is_(None))
                    .order_by(SchoolEvent.id.desc())
                    .limit(limit)
                )
            ).all()
            for event_id in events:
                found = await calendar_items.event_texts(session, event_id)
                if found is not None:
                    fields, source, languages = found
                    wanted += [
                        ("event", event_id, text, source, languages) for text in reversed(fields) if text
                    ]
            by_target: dict[str, list[tuple[str, str]]] = {}
            for _, _, text, source, languages in wanted:
                for target in needed_languages(languages, source):
                    by_target.setdefault(target, []).append((text, source))
            have = {
                target: await cache.lookup_many(session, items, target) for target, items in by_target.items()
            }
        queued = 0
        for kind, item_id, text, source, languages in reversed(wanted):  # oldest first
            missing = {
                target
                for target in needed_languages(languages, source)
                if (text, source) not in have.get(target, {})
            }
            if missing:
                queued += await self.request_translations(kind, item_id, text, source, missing)
        if queued:
            log.info("translation: %d jobs queued for posts and messages still untranslated", queued)
        return queued

    def start_catch_up(self) -> None:
        """Run :meth:`catch_up` in the background (``idle`` and ``close`` wait for or cancel it)."""
        task = asyncio.create_task(self._catch_up_logged(), name="translation-catch-up")
        self._planning.add(task)
        task.add_done_callback(self._planning.discard)

    async def _catch_up_logged(self) -> None:
        try:
            await self.catch_up()
        except Exception:
            log.exception("could not queue the translations still missing")

    async def _plan(self, kind: str, item_id: int) -> None:
        try:
            async with self._planning_slots:
                if kind == "post":
                    await self.request_for_post(item_id)
                elif kind == "comment":
                    await self.request_for_comment(item_id)
                elif kind == "activity":
                    await self.request_for_activity(item_id)
                elif kind in ("event", "absence"):
                    await self.request_for_calendar(kind, item_id)
                else:
                    await self.request_for_message(item_id)
        except Exception:
            log.exception("could not plan translations for %s %s", kind, item_id)

    async def close(self) -> None:
        """Cancel planning still under way (the process is stopping)."""
        for task in list(self._planning):
            task.cancel()
        await asyncio.gather(*self._planning, return_exceptions=True)

    async def idle(self, wait_seconds: float = 10.0) -> bool:
        """Wait until planned requests are queued and every queued job is done (tests, benchmarks)."""
        deadline = time.monotonic() + wait_seconds
        while self._planning:
            await asyncio.wait(set(self._planning), timeout=max(0.0, deadline - time.monotonic()))
            if time.monotonic() >= deadline:
                return False
        return await self.queue.drain(max(0.0, deadline - time.monotonic()))

    # -- translation through the cache -----------------------------------------------------------

    async def translate_text(self, text: str, source: str, target: str, keep: tuple[str, ...] = ()) -> Result:
        """A translation from the cache, or made now (once, however many ask at the same moment).

        ``keep`` lists the terms (names, school words) to carry through untranslated.
        """
        async with self.services.read() as session:
            found = await cache.lookup(session, text, source, target)
        if found is not None:
            return Result(found.text, found.engine, cached=True)
        key = cache.cache_key(text, source, target)
        return await self.coalescer.run(key, lambda: self._translate_once(text, source, target, keep))

    async def _translate_once(
        self, text: str, source: str, target: str, keep: tuple[str, ...] = ()
    ) -> Result:
        # Looked up again: an identical job may have stored it between our lookup and now.
        async with self.services.read() as session:
            found = await cache.lookup(session, text, source, target)
        if found is not None:
            return Result(found.text, found.engine, cached=True)
        if self._lock is None:
            return await self._translate_and_store(text, source, target, keep)
        key = cache.cache_key(text, source, target)
        token = secrets.token_hex(8)
        lock = self._lock
        if not await lock.acquire(key, token):
            # Another worker is translating this text now: wait for its row, then use it.
            async def arrived() -> bool:
                async with self.services.read() as session:
                    if await cache.lookup(session, text, source, target) is not None:
                        return True
                return not await lock.held(key)

            await cache.wait_until(arrived, wait_seconds=120.0)
            async with self.services.read() as session:
                found = await cache.lookup(session, text, source, target)
            if found is not None:
                return Result(found.text, found.engine, cached=True)
            # Its holder died or gave up: translate here (a duplicate row is ignored on store).
            await lock.acquire(key, token)
        async with lock.keep(key, token):
            return await self._translate_and_store(text, source, target, keep)

    async def _translate_and_store(
        self, text: str, source: str, target: str, keep: tuple[str, ...] = ()
    ) -> Result:
        started = time.perf_counter()
        self.engine_calls += 1
        translated, engine = await self._translate_keeping(text, source, target, keep)
        metrics.TRANSLATION_LATENCY.labels(engine).observe(time.perf_counter() - started)
        async with self.services.transaction() as session:
            await cache.store(session, text, source, target, translated, engine)
        return Result(translated, engine, cached=False)

    async def _translate_keeping(
        self, text: str, source: str, target: str, keep: tuple[str, ...]
    ) -> tuple[str, str]:
        """The engine's translation with the ``keep`` terms behind placeholders and put back exactly."""
        shielded = terms.protect(text, keep)
        if shielded.changed:
            out, engine = await self.registry.translate([shielded.text], source, target)
            restored = terms.restore(out[0], shielded)
            if restored is not None:
                return restored, engine
            log.info("%s lost a protected term %s→%s; translating unprotected", engine, source, target)
        out, engine = await self.registry.translate([text], source, target)
        return out[0], engine

    async def translate_for_routing(self, text: str, source: str, target: str) -> str | None:
        """The text in ``target`` for office routing, or None when no engine can (never raises)."""
        if source == target:
            return text
        if not text.strip() or not self.registry.can_translate(source, target):
            return None
        try:
            return (await self.translate_text(text, source, target)).text
        except (EngineError, OSError):
            log.warning("routing translation %s→%s failed", source, target, exc_info=True)
            return None

    async def translatable_languages(self) -> set[str]:
        """Every language this server can translate into (for ``GET /api/languages``)."""
        return self.registry.targets()

    # -- jobs -------------------------------------------------------------------------------------

    async def run_job(self, job: Job) -> None:
        """Do one job: translate (or find) the text, then tell the readers of that language."""
        keep = await self.terms_for(job)
        for attempt in range(1, JOB_ATTEMPTS + 1):
            try:
                result = await self.translate_text(job.text, job.source, job.target, keep)
                break
            except UnsupportedPair:
                metrics.TRANSLATIONS.labels("unavailable").inc()
                return
            except EngineError:
                if attempt == JOB_ATTEMPTS:
                    metrics.TRANSLATIONS.labels("failed").inc()
                    # Let a later request for the same item try again straight away.
                    self._recent.pop((job.kind, job.item_id, cache.content_hash(job.text), job.target), None)
                    raise
                log.warning("translation %s→%s failed, retrying", job.source, job.target, exc_info=True)
                await asyncio.sleep(0.2 * attempt)
        metrics.TRANSLATIONS.labels("cached" if result.cached else "done").inc()
        await self.deliver(job, result)
        for listener in list(self.listeners):
            listener(job, result)

    async def terms_for(self, job: Job) -> tuple[str, ...]:
        """The terms the job's school keeps untranslated (none when the item is gone)."""
        async with self.services.read() as session:
            school_id = await item_school(session, job.kind, job.item_id)
            if school_id is None:
                return ()
            return await protected_terms(session, school_id)

    async def deliver(self, job: Job, result: Result) -> None:
        """Emit the finished translation to the readers of its language, if the item still says the same."""
        async with self.services.transaction() as session:
            if job.kind == "post":
                await self._deliver_post(session, job, result)
            elif job.kind == "comment":
                await self._deliver_comment(session, job, result)
            elif job.kind == "activity":
                await self._deliver_activity(session, job, result)
            elif job.kind in ("event", "absence"):
                deliver = (
                    calendar_items.deliver_event if job.kind == "event" else calendar_items.deliver_absence
                )
                await deliver(
                    session, job.item_id, job.text, job.source, job.target, result.text, result.engine
                )
            else:
                await self._deliver_message(session, job, result)

    async def _deliver_comment(self, session: AsyncSession, job: Job, result: Result) -> None:
        submission = await session.get(Submission, job.item_id)
        if submission is None or submission.comment != job.text:
            return  # erased, or decided again since
        emit(
            session,
            student_channel(submission.student_id),
            "portfolio.translated",
            {
                "item_id": submission.id,
                "student_id": submission.student_id,
                "lang": job.target,
                "text": result.text,
                "engine": result.engine,
                "audience": {"language": job.target},
            },
        )

    async def _deliver_activity(self, session: AsyncSession, job: Job, result: Result) -> None:
        activity = await session.get(Activity, job.item_id)
        if activity is None or job.source != await activity_language(session, activity):
            return  # deleted since, or its author now writes in another language
        for field in ("title", "instructions"):
            if getattr(activity, field) != job.text:
                continue  # edited since: the edit has its own jobs
            emit(
                session,
                class_channel(activity.class_id),
                "activity.translated",
                {
                    "activity_id": activity.id,
                    "class_id": activity.class_id,
                    "field": field,
                    "lang": job.target,
                    "text": result.text,
                    "engine": result.engine,
                    "audience": {"language": job.target},
                },
            )

    async def _deliver_post(self, session: AsyncSession, job: Job, result: Result) -> None:
        post = await session.get(Post, job.item_id)
        if post is None or post.text != job.text or post.lang != job.source:
            return  # deleted or edited since: the edit has its own jobs
        emit(
            session,
            post_channel(post),
            "post.translated",
            {
                "post_id": post.id,
                "lang": job.target,
                "text": result.text,
                "engine": result.engine,
                "audience": {"language": job.target},
            },
        )

    async def _deliver_message(self, session: AsyncSession, job: Job, result: Result) -> None:
        message = await session.get(Message, job.item_id)
        if message is None or message.text != job.text or message.lang != job.source:
            return
        held = message.delivery == "held_quiet_hours" and message.released_at is None
        members = await conversation_languages(session, message.conversation_id)
        roles: dict[int, str] = {}
        if held:
            rows = await session.execute(select(User.id, User.role).where(User.id.in_(list(members))))
            roles = {uid: role for uid, role in rows.all()}
        readers = dict(members)
        if message.topic and not held:  # routed to the office: its inbox shows it in their language
            school_id = select(Conversation.school_id).where(Conversation.id == message.conversation_id)
            office = await session.execute(
                select(User.id, User.language).where(
                    User.school_id == school_id.scalar_subquery(), User.role == "office"
                )
            )
            for uid, language in office.all():
                readers.setdefault(uid, language)
        for uid, language in readers.items():
            if uid == message.sender_id or language != job.target:
                continue
            if held and roles.get(uid) in STAFF_ROLES:
                continue  # quiet hours: staff see it, translated, when the message is released
            emit(
                session,
                user_channel(uid),
                "message.translated",
                {
                    "message_id": message.id,
                    "conversation_id": message.conversation_id,
                    "lang": job.target,
                    "text": result.text,
                    "engine": result.engine,
                    "audience": {"language": job.target},
                },
            )
