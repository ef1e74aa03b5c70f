// Staff views: the list of classes, a class (points board, class story, home
// learning) and the school story.

import * as api from "../api.js";
import { h, icon, mount, field, focus } from "../dom.js";
import { date, timeEl } from "../format.js";
import { busy, confirmDialog, empty, errorLine, failure, loading, messageOf, pageTitle, toast } from "../ui.js";
import { activityBody } from "../translation.js";
import { board } from "./board.js";
import { composer, mediaBlock, storyList } from "./stories.js";
import { N_, parts, t, tn } from "../i18n.js";

const CLASS_KEY = "homeroom.class";

export function rememberedClass() {
  try {
    return localStorage.getItem(CLASS_KEY);
  } catch {
    return null;
  }
}

export function rememberClass(id) {
  try {
    localStorage.setItem(CLASS_KEY, String(id));
  } catch {
    // fine: the class list is one tap away
  }
}

async function myClassIds(me) {
  try {
    const staff = await api.get("/api/staff");
    const mine = (staff.items || []).find((s) => s.id === me.id);
    return new Set(mine ? mine.class_ids : []);
  } catch {
    return new Set();
  }
}

export async function classList(ctx) {
  mount(ctx.root, pageTitle(t("Classes")), loading());
  const [classes, mine] = await Promise.all([api.get("/api/classes"), myClassIds(ctx.me)]);
  const items = classes.items || [];
  if (ctx.me.role === "teacher" && mine.size === 1 && !rememberedClass()) {
    const only = [...mine][0];
    rememberClass(only);
    ctx.navigate(`/class/${only}/board`, { replace: true });
    return;
  }
  const card = (c) =>
    h(
      "li",
      {},
      h(
        "a",
        { href: `#/class/${c.id}/board`, class: "class-card card" },
        h("span", { class: "class-card-name" }, c.name),
        c.class_code ? h("span", { class: "class-card-code" }, t("Class code {code}", { code: c.class_code })) : null,
      ),
    );
  const yours = items.filter((c) => mine.has(c.id));
  const others = items.filter((c) => !mine.has(c.id));
  mount(
    ctx.root,
    pageTitle(ctx.me.role === "admin" ? t("Every class") : "Classes", ctx.me.role === "admin" ? t("Read any class story and points board.") : null),
    items.length === 0 ? empty(t("No classes yet"), t("A school leader creates the classes."), "home") : null,
    yours.length ? h("h2", { class: "section-title" }, t("Your classes")) : null,
    yours.length ? h("ul", { class: "class-grid" }, yours.map(card)) : null,
    others.length && yours.length ? h("h2", { class: "section-title" }, t("Other classes")) : null,
    others.length ? h("ul", { class: "class-grid" }, others.map(card)) : null,
  );
}

const TABS = [
  ["board", N_("Points")],
  ["story", N_("Story")],
  ["learning", N_("Learning")],
];

export async function classView(ctx) {
  const id = Number(ctx.params.id);
  const tab = TABS.some(([key]) => key === ctx.params.tab) ? ctx.params.tab : "board";
  if (ctx.params.tab !== tab) {
    ctx.navigate(`/class/${id}/${tab}`, { replace: true });
    return;
  }
  mount(ctx.root, loading());
  const [cls, all, roster] = await Promise.all([
    api.get(`/api/classes/${id}`),
    api.get("/api/classes"),
    api.getOptional(`/api/classes/${id}/students`, { items: [] }),
  ]);
  if (ctx.me.role === "teacher") rememberClass(id);
  const switcher = h("select", { class: "input input-inline", "aria-label": t("Choose a class") });
  for (const c of all.items || []) switcher.append(h("option", { value: c.id, selected: c.id === id }, c.name));
  switcher.addEventListener("change", () => ctx.navigate(`/class/${switcher.value}/${tab}`));
  // Teachers have these sections in their own navigation; leaders and the office get them here.
  const nav = ctx.me.role === "teacher" ? null : h(
    "nav",
    { class: "subnav", "aria-label": t("{class}: sections", { class: cls.name }) },
    TABS.map(([key, label]) =>
      h("a", { href: `#/class/${id}/${key}`, class: "subnav-link", "aria-current": key === tab ? "page" : null }, t(label)),
    ),
  );
  const body = h("div", { class: "class-body" });
  mount(
    ctx.root,
    h(
      "div",
      { class: "page-head page-head-row" },
      h("h1", { class: "page-title", tabindex: "-1" }, cls.name, h("span", { class: "visually-hidden" }, ` — ${TABS.find(([t]) => t === tab)[1]}`)),
      (all.items || []).length > 1 ? switcher : null,
    ),
    cls.class_code ? h("p", { class: "page-sub" }, ...parts(t("Class code for pupils: {code}"), { code: h("strong", { class: "code", dir: "ltr" }, cls.class_code) })) : null,
    pupilCodes(ctx, roster.items || []),
    nav,
    body,
  );
  if (tab === "board") await board(ctx, body, cls);
  else if (tab === "story") await classStory(ctx, body, cls);
  else await learning(ctx, body, cls);
}

/**
 * The pupils' own sign-in codes. The server sends them only to admins and the staff of
 * this class, so everyone else gets nothing here; admins can give a pupil a new code.
 */
function pupilCodes(ctx, pupils) {
  const shown = pupils.filter((p) => p.student_code && !p.left_at);
  if (!shown.length) return null;
  const row = (p) => {
    const code = h("strong", { class: "code" }, p.student_code);
    let renew = null;
    if (ctx.me.role === "admin") {
      renew = h("button", { type: "button", class: "button button-ghost" }, t("New code"));
      renew.addEventListener("click", async () => {
        const sure = await confirmDialog(
          t("A new code for {name}?", { name: p.name }),
          t("Their old code stops working at once and they are signed out everywhere."),
          t("New code"),
        );
        if (!sure) return;
        await busy(renew, async () => {
          try {
            const fresh = await api.post(`/api/students/${p.id}/code`);
            code.textContent = fresh.student_code;
            toast(t("New code for {name}", { name: p.name }));
          } catch (err) {
            toast(messageOf(err), "error");
          }
        });
      });
    }
    return h("li", { class: "pupil-code", "data-student-id": p.id }, h("span", { class: "pupil-code-name" }, p.name), code, renew);
  };
  return h(
    "details",
    { class: "pupil-codes" },
    h("summary", {}, t("Pupil codes")),
    h("p", { class: "hint" }, t("Each pupil signs in with the class code and their own code. Keep these private.")),
    h("ul", { class: "pupil-code-list" }, shown.map(row)),
  );
}

async function classStory(ctx, host, cls) {
  const roster = await api.getOptional(`/api/classes/${cls.id}/students`, { items: [] });
  const pupils = (roster.items || []).filter((p) => !p.left_at);
  let compose = null;
  const list = storyList(ctx, {
    onMissing: () => compose?.remove(),
    path: `/api/classes/${cls.id}/posts`,
    channels: [`class:${cls.id}`, `class:${cls.id}:staff`],
    canLike: true,
    staff: true,
    what: t("The class story"),
    emptyTitle: t("No posts yet"),
    emptyText: t("Share a photo or some news from today: every family in the class will see it at once."),
  });
  compose = composer(ctx, {
    postPath: `/api/classes/${cls.id}/posts`,
    pupils,
    placeholder: t("Share some news with the families of {class}…", { class: cls.name }),
    onPosted: (post) => list.upsert(post),
  });
  mount(host, compose, list.el);
}

export async function schoolStory(ctx) {
  const school = ctx.school || {};
  const staff = ["admin", "teacher", "office"].includes(ctx.me.role);
  let compose = null;
  const list = storyList(ctx, {
    onMissing: () => compose?.remove(),
    path: "/api/school/posts",
    channels: school.id ? [`school:${school.id}`] : [],
    canLike: ctx.me.role !== "student",
    staff,
    what: t("The school story"),
    emptyTitle: t("No school news yet"),
    emptyText: staff ? t("Whole-school news, events and results go here.") : t("News from the whole school will appear here."),
  });
  compose = staff
    ? composer(ctx, {
        postPath: "/api/school/posts",
        placeholder: t("Share news with the whole school…"),
        onPosted: (post) => list.upsert(post),
      })
    : null;
  mount(ctx.root, pageTitle(t("School story"), school.name || null), compose, list.el);
}

// -- home learning ---------------------------------------------------------------------------

function activityCard(a, me) {
  const due = a.due_at ? h("p", { class: "activity-due" }, icon("clock", "icon-small"), `Due ${date(a.due_at, { weekday: "long", day: "numeric", month: "long" })}`) : null;
  const body = activityBody(a, me, { heading: "h3", due });
  const card = h("article", { class: "card activity", "data-activity-id": a.id }, body);
  card.translated = body.translated;
  return card;
}

async function learning(ctx, host, cls) {
  mount(host, loading());
  let activities;
  try {
    activities = await api.get(`/api/classes/${cls.id}/activities`);
  } catch (err) {
    mount(host, failure(err, t("Home learning")));
    return;
  }
  const list = h("div", { class: "activity-list" });
  const pending = h("div", { class: "review-list" });
  const known = new Map();

  function addActivity(a, top = false) {
    if (known.has(a.id)) {
      const fresh = activityCard(a, ctx.me);
      known.get(a.id).replaceWith(fresh);
      known.set(a.id, fresh);
      return;
    }
    const card = activityCard(a, ctx.me);
    known.set(a.id, card);
    if (top) list.prepend(card);
    else list.append(card);
    list.querySelector(".empty")?.remove();
  }
  for (const a of activities.items || []) addActivity(a);
  if (!known.size) list.append(empty(t("No home learning set"), t("Set a task and pupils can hand in their work from home.")));

  const title = h("input", { class: "input", name: "title", maxlength: "200", required: true });
  const instructions = h("textarea", { class: "input", name: "instructions", rows: "3", maxlength: "10000" });
  const due = h("input", { class: "input", type: "date", name: "due" });
  const error = errorLine();
  const submit = h("button", { type: "submit", class: "button button-primary" }, icon("plus"), t("Set task"));
  const form = h(
    "form",
    { class: "card stack", novalidate: true },
    h("h2", { class: "card-title" }, t("Set home learning")),
    field(t("Title"), title),
    field(t("What to do"), instructions),
    field(t("Due on"), due, t("Optional")),
    error.el,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    if (!title.value.trim()) {
      error.show(t("Give the task a title."));
      focus(title);
      return;
    }
    const body = { title: title.value.trim(), instructions: instructions.value.trim() };
    if (due.value) body.due_at = new Date(`${due.value}T17:00:00`).toISOString();
    await busy(submit, async () => {
      try {
        const made = await api.post(`/api/classes/${cls.id}/activities`, body);
        addActivity(made, true);
        form.reset();
        toast(t("Task set"));
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });

  async function loadPending() {
    try {
      const reply = await api.get(`/api/classes/${cls.id}/submissions${api.qs({ status: "pending" })}`);
      mount(pending);
      for (const item of reply.items || []) pending.append(reviewCard(item));
      if (!pending.children.length) pending.append(empty(t("Nothing to review"), t("Work that pupils hand in appears here."), "check"));
    } catch (err) {
      mount(pending, failure(err, t("Reviewing work")));
    }
  }

  function reviewCard(item) {
    const comment = h("input", { class: "input", name: "comment", maxlength: "2000", placeholder: t("A comment for the pupil") });
    const approve = h("button", { type: "button", class: "button button-primary" }, icon("check"), t("Approve"));
    const back = h("button", { type: "button", class: "button" }, t("Return"));
    const card = h(
      "article",
      { class: "card review", "data-submission-id": item.id },
      h("p", { class: "review-who" }, h("strong", {}, item.student.name), ` · ${item.activity ? item.activity.title : "Work"}`, item.late ? h("span", { class: "badge badge-warn" }, t("Late")) : null),
      item.text ? h("p", { class: "review-text" }, item.text) : null,
      item.media && item.media.length ? mediaBlock(item.media) : null,
      h("p", { class: "post-when" }, timeEl(item.created_at)),
      h("label", { class: "visually-hidden", for: (comment.id = `c-${item.id}`) }, t("Comment")),
      comment,
      h("div", { class: "row" }, approve, back),
    );
    const decide = (button, path) =>
      busy(button, async () => {
        if (path === "return" && !comment.value.trim()) {
          toast(t("Write a comment to say what to change."), "error");
          focus(comment);
          return;
        }
        try {
          await api.post(`/api/submissions/${item.id}/${path}`, { comment: comment.value.trim() });
          card.remove();
          toast(path === "approve" ? t("Approved: the family can see it now") : t("Returned to the pupil"));
          if (!pending.children.length) pending.append(empty(t("Nothing to review"), "", "check"));
        } catch (err) {
          toast(messageOf(err), "error");
        }
      });
    approve.addEventListener("click", () => decide(approve, "approve"));
    back.addEventListener("click", () => decide(back, "return"));
    return card;
  }

  mount(
    host,
    h(
      "div",
      { class: "two-col" },
      h("div", {}, form, h("h2", { class: "section-title" }, t("Tasks")), list),
      h("div", {}, h("h2", { class: "section-title" }, t("Work to review")), pending),
    ),
  );
  loadPending();
  ctx.scope.live(`class:${cls.id}`, {
    event(frame) {
      if (frame.type === "activity.created" || frame.type === "activity.updated") addActivity(frame.data.activity, true);
      if (frame.type === "activity.translated") known.get(frame.data.activity_id)?.translated(frame.data);
      if (frame.type === "activity.deleted") {
        known.get(frame.data.activity_id)?.remove();
        known.delete(frame.data.activity_id);
      }
    },
  });
  ctx.scope.live(`class:${cls.id}:staff`, {
    event(frame) {
      if (frame.type === "portfolio.submitted" && frame.data.item) {
        pending.querySelector(".empty")?.remove();
        pending.prepend(reviewCard(frame.data.item));
        toast(t("{name} handed in work", { name: frame.data.item.student.name }));
      }
    },
    reset: loadPending,
  });
}
