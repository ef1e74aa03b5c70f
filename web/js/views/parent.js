// The family's views: one feed of their children's class stories and the school
// story (in their language, original one tap away), each child's points and portfolio.

import * as api from "../api.js";
import { h, icon, mount, s } from "../dom.js";
import { loadCatalogue, monster } from "../avatar.js";
import { base, date, dirOf, languageName, number, timeEl } from "../format.js";
import { empty, failure, loading, pageTitle } from "../ui.js";
import { skillIcon } from "./board.js";
import { mediaBlock, storyList } from "./stories.js";
import { N_, parts, t, tn } from "../i18n.js";

const CHILD_KEY = "homeroom.child";

export function currentChild(me) {
  const children = (me && me.children) || [];
  if (!children.length) return null;
  let wanted = null;
  try {
    wanted = Number(localStorage.getItem(CHILD_KEY));
  } catch {
    wanted = null;
  }
  return children.find((c) => c.id === wanted) || children[0];
}

function rememberChild(id) {
  try {
    localStorage.setItem(CHILD_KEY, String(id));
  } catch {
    // fine
  }
}

async function classNames() {
  const names = new Map();
  try {
    const reply = await api.get("/api/classes");
    for (const c of reply.items || []) names.set(c.id, c.name);
  } catch {
    // names are a nicety on the cards
  }
  return names;
}

export async function feed(ctx) {
  const children = ctx.me.children || [];
  const [names, catalogue] = await Promise.all([classNames(), loadCatalogue()]);
  const classIds = [...new Set(children.map((c) => c.class_id))];
  const channels = classIds.map((id) => `class:${id}`);
  if (ctx.school && ctx.school.id) channels.push(`school:${ctx.school.id}`);
  const list = storyList(ctx, {
    path: "/api/feed",
    channels,
    classNames: names,
    canLike: true,
    staff: false,
    label: t("Class and school stories"),
    what: t("The story feed"),
    emptyTitle: t("No news yet"),
    emptyText: t("Photos and news from your child's class and the school will appear here."),
  });
  const kids = children.length
    ? h(
        "section",
        { class: "feed-aside", "aria-label": t("Your children") },
        h("h2", { class: "aside-title" }, children.length === 1 ? t("Your child") : t("Your children")),
        h(
          "ul",
          { class: "child-strip" },
          children.map((c) =>
            h(
              "li",
              {},
              h(
                "a",
                { href: `#/child/${c.id}/points`, class: "child-chip" },
                h("span", { class: "child-chip-monster" }, monster(c.avatar, catalogue)),
                h(
                  "span",
                  { class: "child-chip-text" },
                  h("span", { class: "child-chip-name" }, c.name),
                  h("span", { class: "child-chip-class" }, names.get(c.class_id) || ""),
                  h("span", { class: "child-chip-more" }, t("Points and portfolio")),
                ),
              ),
            ),
          ),
        ),
        h("p", { class: "aside-absence" }, h("a", { class: "button button-soft button-block", href: "#/absence" }, icon("bed"), t("Report an absence"))),
        ctx.school && ctx.school.office_phone
          ? h("p", { class: "aside-office" }, ...parts(t("School office: {phone}"), { phone: h("a", { href: `tel:${ctx.school.office_phone.replace(/[^0-9+]/g, "")}`, dir: "ltr" }, h("bdi", {}, ctx.school.office_phone)) }))
          : null,
      )
    : null;
  mount(
    ctx.root,
    pageTitle(t("Stories"), t("News from your child's class and the school")),
    h("div", { class: "feed-layout" }, kids, list.el),
  );
}

const CHILD_TABS = [
  ["points", N_("Points")],
  ["portfolio", N_("Portfolio")],
];

export async function child(ctx) {
  const id = Number(ctx.params.id);
  const children = ctx.me.children || [];
  const kid = children.find((c) => c.id === id);
  if (!kid) {
    ctx.navigate("/feed", { replace: true });
    return;
  }
  const tab = CHILD_TABS.some(([key]) => key === ctx.params.tab) ? ctx.params.tab : "points";
  rememberChild(id);
  const catalogue = await loadCatalogue();
  const switcher =
    children.length > 1
      ? h(
          "nav",
          { class: "subnav", "aria-label": t("Your children") },
          children.map((c) =>
            h("a", { href: `#/child/${c.id}/${tab}`, class: "subnav-link", "aria-current": c.id === id ? "page" : null }, c.name),
          ),
        )
      : null;
  const body = h("div", {});
  mount(
    ctx.root,
    h(
      "div",
      { class: "page-head child-head" },
      h("span", { class: "child-head-monster" }, monster(kid.avatar, catalogue, { label: t("{name}'s monster", { name: kid.name }) })),
      h("div", {}, h("h1", { class: "page-title", tabindex: "-1" }, tab === "points" ? t("{name}'s points", { name: kid.name }) : t("{name}'s portfolio", { name: kid.name }))),
    ),
    switcher,
    body,
  );
  if (tab === "points") await pointsView(ctx, body, kid);
  else await portfolioView(ctx, body, kid);
}

/** Points of one pupil: total, per school way, week by week and the latest awards (shared with pupils). */
export async function pointsView(ctx, host, kid, { pupil = false } = {}) {
  mount(host, loading());
  let data;
  try {
    data = await api.get(`/api/students/${kid.id}/points`, { signal: ctx.scope.signal });
  } catch (err) {
    if (err.name === "AbortError") return;
    mount(host, failure(err, t("Points")));
    return;
  }
  const totalEl = h("span", { class: "big-number" }, number(data.total));
  const history = h("ol", { class: "history" });
  const skillsBox = h("div", {});
  const weeksBox = h("div", {});

  function drawSkills() {
    const rows = data.skills || [];
    const top = Math.max(1, ...rows.map((r) => r.points));
    mount(
      skillsBox,
      rows.length
        ? h(
            "ul",
            { class: "skill-bars" },
            rows.map((r) =>
              h(
                "li",
                { class: "skill-row" },
                skillIcon(r.skill ? r.skill.icon : "star"),
                h("span", { class: "skill-row-name" }, r.skill ? r.skill.name : t("Other")),
                bar(r.points / top),
                h("span", { class: "skill-row-points" }, number(r.points)),
              ),
            ),
          )
        : empty(pupil ? t("No points yet") : t("No points yet this term"), pupil ? t("Keep going! Your teacher gives points for our school ways.") : "", "star"),
    );
  }

  function drawWeeks() {
    const weeks = (data.weeks || []).slice(-8);
    if (!weeks.length) {
      mount(weeksBox);
      return;
    }
    mount(weeksBox, weekChart(weeks));
  }

  function historyItem(a) {
    return h(
      "li",
      { class: "history-item" },
      skillIcon(a.skill ? a.skill.icon : "star"),
      h("span", { class: "history-what", dir: "auto" }, h("strong", {}, `+${number(a.points)} `), a.skill ? a.skill.name : t("Point")),
      h("span", { class: "history-who" }, a.awarded_by ? a.awarded_by.name : ""),
      timeEl(a.created_at),
    );
  }

  for (const a of data.history || []) history.append(historyItem(a));
  const nothingYet = h("p", { class: "muted", hidden: history.children.length > 0 }, t("Nothing yet."));
  drawSkills();
  drawWeeks();

  mount(
    host,
    h(
      "div",
      { class: "points-grid" },
      h(
        "section",
        { class: "card points-total", "aria-label": t("Total points") },
        pupil ? h("span", { class: "points-monster" }, monster(kid.avatar, await loadCatalogue())) : null,
        h("p", { class: "points-total-label" }, pupil ? t("My points") : t("Total points")),
        totalEl,
        data.period_total !== undefined && data.period_total !== data.total
          ? h("p", { class: "muted" }, t("{count} in this period", { count: number(data.period_total) }))
          : null,
      ),
      h("section", { class: "card" }, h("h2", { class: "card-title" }, t("School ways")), skillsBox),
      h("section", { class: "card" }, h("h2", { class: "card-title" }, t("Week by week")), weeksBox),
      h("section", { class: "card" }, h("h2", { class: "card-title" }, t("Latest")), history, nothingYet),
    ),
  );

  ctx.scope.live(`student:${kid.id}`, {
    event(frame) {
      const d = frame.data || {};
      if (frame.type === "points.awarded" && d.award) {
        data.total = d.total;
        totalEl.textContent = number(d.total);
        totalEl.classList.remove("bump");
        void totalEl.offsetWidth;
        totalEl.classList.add("bump");
        const row = (data.skills || []).find((r) => r.skill && d.award.skill && r.skill.id === d.award.skill.id);
        if (row) {
          row.points += d.award.points;
          row.count += 1;
        } else if (d.award.skill) {
          data.skills = [...(data.skills || []), { skill: d.award.skill, points: d.award.points, count: 1 }];
        }
        const weeks = data.weeks || [];
        if (weeks.length) weeks[weeks.length - 1].points += d.award.points;
        drawSkills();
        drawWeeks();
        nothingYet.hidden = true;
        history.prepend(historyItem(d.award));
      } else if (frame.type === "points.removed") {
        pointsView(ctx, host, kid, { pupil });
      }
    },
    reset: () => pointsView(ctx, host, kid, { pupil }),
  });
}

function bar(fraction) {
  const width = Math.max(0.04, Math.min(1, fraction)) * 100;
  return s(
    "svg",
    { class: "bar", viewBox: "0 0 100 10", preserveAspectRatio: "none", "aria-hidden": "true", focusable: "false" },
    s("rect", { x: 0, y: 0, width: 100, height: 10, rx: 5, class: "bar-track" }),
    s("rect", { x: 0, y: 0, width, height: 10, rx: 5, class: "bar-fill" }),
  );
}

function weekChart(weeks) {
  const top = Math.max(1, ...weeks.map((w) => w.points));
  const W = 40;
  const H = 100;
  const svg = s("svg", {
    class: "week-chart",
    viewBox: `0 0 ${weeks.length * W} ${H + 24}`,
    role: "img",
    "aria-label": weeks.map((w) => t("Week of {date}: {points}", { date: date(w.week_start, { day: "numeric", month: "short" }), points: number(w.points) })).join("; "),
  });
  weeks.forEach((w, i) => {
    const height = Math.max(2, (w.points / top) * (H - 16));
    svg.append(
      s("rect", { x: i * W + 8, y: H - height, width: W - 16, height, rx: 6, class: "week-bar" }),
      s("text", { x: i * W + W / 2, y: H - height - 4, "text-anchor": "middle", class: "week-value" }, number(w.points)),
      s("text", { x: i * W + W / 2, y: H + 16, "text-anchor": "middle", class: "week-label" }, date(w.week_start, { day: "numeric", month: "short" })),
    );
  });
  return svg;
}

async function portfolioView(ctx, host, kid) {
  mount(host, loading());
  let reply;
  try {
    reply = await api.get(`/api/students/${kid.id}/portfolio`);
  } catch (err) {
    mount(host, failure(err, t("The portfolio")));
    return;
  }
  const list = h("div", { class: "portfolio-list" });
  const cards = new Map();
  const add = (item, top = false) => {
    const card = portfolioCard(item);
    cards.get(item.id)?.remove();
    cards.set(item.id, card);
    if (top) list.prepend(card);
    else list.append(card);
    list.querySelector(".empty")?.remove();
  };
  for (const item of reply.items || []) add(item);
  if (!list.children.length) list.append(empty(t("Nothing in the portfolio yet"), t("Work {name} hands in appears here once the teacher has looked at it.", { name: kid.name }), "book"));
  mount(host, list);
  ctx.scope.live(`student:${kid.id}`, {
    event(frame) {
      const d = frame.data || {};
      if (frame.type === "portfolio.approved" && d.item) add(d.item, true);
      else if (frame.type === "portfolio.translated" && cards.has(d.item_id) && base(d.lang) === base(ctx.me.language)) {
        cards.get(d.item_id).translated(d.lang, d.text);
      }
    },
    reset: () => portfolioView(ctx, host, kid),
  });
}

export function portfolioCard(initial) {
  let item = initial;
  let showOriginal = false;
  const statusText = { pending: t("Waiting for the teacher"), approved: t("Approved"), returned: t("Returned") }[item.status];
  const card = h("article", { class: "card portfolio-item", "data-item-id": item.id });
  const comment = () => {
    if (!item.comment) return null;
    const original = item.comment_original;
    const translated = item.comment_translation && item.comment_translation.status === "ready" && original && original.lang !== item.comment_lang;
    const text = translated && showOriginal ? original.text : item.comment;
    const lang = translated && showOriginal ? original.lang : item.comment_lang;
    const parts = [h("p", { class: "teacher-comment", lang: lang || null, dir: lang ? dirOf(lang) : null }, icon("chat", "icon-small"), text)];
    if (translated) {
      const toggle = h("button", { type: "button", class: "link-button see-original" }, showOriginal ? t("See translation") : t("See original"));
      toggle.addEventListener("click", () => {
        showOriginal = !showOriginal;
        draw();
      });
      parts.push(h("p", { class: "translated-note" }, icon("globe", "icon-small"), t("Translated from {language}", { language: languageName(original.lang) }) + " · ", toggle));
    } else if (item.comment_translation && item.comment_translation.status === "pending") {
      parts.push(h("p", { class: "translated-note is-pending" }, icon("globe", "icon-small"), t("Translating…")));
    }
    return parts;
  };
  const draw = () =>
    mount(
      card,
      h(
        "header",
        { class: "portfolio-head" },
        h("h3", { class: "activity-title" }, item.activity ? item.activity.title : t("Work")),
        statusText ? h("span", { class: `badge badge-${item.status}` }, statusText) : null,
      ),
      item.text ? h("p", { class: "activity-text" }, item.text) : null,
      item.media && item.media.length ? mediaBlock(item.media) : null,
      comment(),
      h("p", { class: "post-when" }, timeEl(item.created_at)),
    );
  card.translated = (lang, text) => {
    if (!item.comment) return;
    const original = item.comment_original || { text: item.comment, lang: item.comment_lang || "en" };
    item = { ...item, comment: text, comment_lang: lang, comment_original: original, comment_translation: { status: "ready" } };
    draw();
  };
  draw();
  return card;
}
