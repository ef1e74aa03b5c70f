// The class points board: every pupil's monster and total, select one, several or
// the whole class, pick a school way, and the award is seen and heard. Awards from
// other staff and avatar changes made by pupils arrive live.

import * as api from "../api.js";
import { h, icon, mount } from "../dom.js";
import { loadCatalogue, monster } from "../avatar.js";
import { number } from "../format.js";
import { isMuted, playAward, setMuted } from "../sound.js";
import { busy, empty, loading, messageOf, toast } from "../ui.js";
import { N_, t, tn } from "../i18n.js";

function pointsWord(n) {
  return tn("{count} point", "{count} points", n, { count: number(n) });
}

export function skillIcon(name) {
  const known = ["heart", "team", "mountain", "lightbulb", "handshake", "star"];
  return icon(known.includes(name) ? name : "star", "skill-icon");
}

/** The board for class `cls` ({id, name}); staff only. */
export async function board(ctx, host, cls) {
  mount(host, loading(t("Loading the class…")));
  const [catalogue, pointsReply, skillsReply] = await Promise.all([
    loadCatalogue(),
    api.getOptional(`/api/classes/${cls.id}/points`, null),
    api.getOptional("/api/skills", { items: [] }),
  ]);
  let rows;
  let pointsAvailable = true;
  if (pointsReply) {
    rows = pointsReply.items.map((item) => ({ ...item.student, total: item.total }));
  } else {
    pointsAvailable = false;
    const roster = await api.get(`/api/classes/${cls.id}/students`);
    rows = roster.items.map((p) => ({ id: p.id, name: p.name, avatar: p.avatar, total: 0 }));
  }
  const skills = skillsReply.items || [];
  const pupils = new Map(rows.map((r) => [r.id, r]));
  const tiles = new Map();
  const selected = new Set();

  const countLabel = h("span", { class: "select-count", "aria-live": "polite", dir: "auto" });
  const classTotal = h("span", { class: "class-total", role: "img" });
  const allButton = h("button", { type: "button", class: "button button-soft" }, icon("users"), t("Whole class"));
  const clearButton = h("button", { type: "button", class: "button button-ghost" }, t("Clear"));
  const soundButton = h("button", { type: "button", class: "icon-button", "aria-pressed": isMuted() ? "true" : "false" });
  const grid = h("ul", { class: "board-grid", "aria-label": t("Pupils in {class}", { class: cls.name }) });
  const skillBar = h("div", { class: "skill-bar", role: "group", "aria-label": t("Give a point for"), hidden: true });

  function drawSound() {
    mount(soundButton, icon(isMuted() ? "mute" : "sound"), h("span", { class: "visually-hidden" }, t("Mute award sounds")));
    soundButton.setAttribute("aria-pressed", isMuted() ? "true" : "false");
  }
  soundButton.addEventListener("click", () => {
    setMuted(!isMuted());
    drawSound();
  });
  drawSound();

  function tile(pupil) {
    const total = h("span", { class: "tile-total", "aria-hidden": "true" }, number(pupil.total));
    const button = h(
      "button",
      { type: "button", class: "tile", "aria-pressed": "false", "data-student-id": pupil.id },
      h("span", { class: "tile-monster" }, monster(pupil.avatar, catalogue)),
      h("span", { class: "tile-name" }, pupil.name),
      total,
      h("span", { class: "visually-hidden tile-sr" }, `, ${pointsWord(pupil.total)}`),
    );
    button.addEventListener("click", () => {
      if (selected.has(pupil.id)) selected.delete(pupil.id);
      else selected.add(pupil.id);
      refreshSelection();
    });
    const li = h("li", {}, button);
    tiles.set(pupil.id, { li, button, total });
    return li;
  }

  function refreshSelection() {
    for (const [id, tile] of tiles) tile.button.setAttribute("aria-pressed", selected.has(id) ? "true" : "false");
    const n = selected.size;
    countLabel.textContent =
      n === 0 ? t("Tap pupils to choose") : n === pupils.size ? t("Whole class chosen") : tn("{count} chosen", "{count} chosen", n, { count: number(n) });
    skillBar.hidden = n === 0 || !pointsAvailable;
    clearButton.disabled = n === 0;
  }

  function setTotal(id, total, { celebrate = 0 } = {}) {
    const pupil = pupils.get(id);
    const t = tiles.get(id);
    if (!pupil || !t) return;
    pupil.total = total;
    t.total.textContent = number(total);
    t.button.querySelector(".tile-sr").textContent = `, ${pointsWord(total)}`;
    if (celebrate) {
      const bubble = h("span", { class: "award-bubble", "aria-hidden": "true" }, `+${number(celebrate)}`);
      t.button.appendChild(bubble);
      t.button.classList.remove("celebrate");
      void t.button.offsetWidth;
      t.button.classList.add("celebrate");
      setTimeout(() => bubble.remove(), 1400);
    }
    drawClassTotal();
  }

  function drawClassTotal() {
    let sum = 0;
    for (const p of pupils.values()) sum += p.total || 0;
    mount(classTotal, icon("star", "icon-small"), h("span", { "aria-hidden": "true" }, number(sum)));
    classTotal.setAttribute("aria-label", t("Class total: {points}", { points: pointsWord(sum) }));
    classTotal.title = t("Class total: {points}", { points: pointsWord(sum) });
  }

  function setAvatar(id, avatar) {
    const pupil = pupils.get(id);
    const t = tiles.get(id);
    if (!pupil || !t) return;
    pupil.avatar = avatar;
    mount(t.button.querySelector(".tile-monster"), monster(avatar, catalogue));
    t.button.classList.remove("wiggle");
    void t.button.offsetWidth;
    t.button.classList.add("wiggle");
  }

  allButton.addEventListener("click", () => {
    if (selected.size === pupils.size) selected.clear();
    else for (const id of pupils.keys()) selected.add(id);
    refreshSelection();
  });
  clearButton.addEventListener("click", () => {
    selected.clear();
    refreshSelection();
  });

  const seenAwards = new Set();

  async function award(skill, button) {
    const ids = [...selected];
    const whole = ids.length === pupils.size && ids.length > 1;
    const body = whole ? { class_id: cls.id, skill_id: skill.id } : { student_ids: ids, skill_id: skill.id };
    await busy(button, async () => {
      try {
        const reply = await api.post("/api/points", body);
        playAward(ids.length);
        for (const a of reply.awards || []) {
          seenAwards.add(a.id);
          const total = reply.totals ? reply.totals[String(a.student.id)] : undefined;
          setTotal(a.student.id, total ?? (pupils.get(a.student.id)?.total || 0) + a.points, { celebrate: a.points });
        }
        const who = whole ? t("the whole class") : ids.length === 1 ? pupils.get(ids[0]).name : tn("{count} pupil", "{count} pupils", ids.length, { count: number(ids.length) });
        undoToast(t("{skill}: +{points} for {who}", { skill: skill.name, points: skill.points, who }), reply.awards || []);
        selected.clear();
        refreshSelection();
        // The skill bar hides with the selection: keep keyboard focus on the board.
        tiles.get(ids[0])?.button.focus();
      } catch (err) {
        toast(messageOf(err), "error");
      }
    });
  }

  function undoToast(text, awards) {
    const host = document.getElementById("toasts");
    const undo = h("button", { type: "button", class: "link-button toast-action" }, icon("undo", "icon-small"), t("Undo"));
    const el = h("div", { class: "toast toast-success" }, h("span", {}, text), undo);
    host.appendChild(el);
    const timer = setTimeout(() => el.remove(), 8000);
    undo.addEventListener("click", async () => {
      clearTimeout(timer);
      el.remove();
      for (const a of awards) {
        try {
          const reply = await api.del(`/api/points/${a.id}`);
          setTotal(a.student.id, reply.total);
        } catch (err) {
          toast(messageOf(err), "error");
          return;
        }
      }
      toast(t("Award undone"));
    });
  }

  mount(
    skillBar,
    h("p", { class: "skill-bar-title" }, t("Give a point for…")),
    h(
      "div",
      { class: "skill-list" },
      skills.map((skill) => {
        const b = h(
          "button",
          { type: "button", class: "skill", "data-skill-id": skill.id },
          skillIcon(skill.icon),
          h("span", { class: "skill-name" }, skill.name),
          h("span", { class: "skill-points" }, `+${number(skill.points)}`),
        );
        b.addEventListener("click", () => award(skill, b));
        return b;
      }),
    ),
  );

  for (const pupil of rows) grid.append(tile(pupil));

  mount(
    host,
    h(
      "div",
      { class: "board" },
      h(
        "div",
        { class: "board-toolbar" },
        h("div", { class: "board-actions" }, allButton, clearButton),
        h("div", { class: "board-status" }, countLabel, h("span", { class: "spacer" }), classTotal, soundButton),
      ),
      !pointsAvailable ? h("p", { class: "notice notice-info" }, t("Points are not switched on yet on this server.")) : null,
      rows.length ? grid : empty(t("No pupils in this class yet"), t("A school leader adds pupils to classes."), "users"),
      skillBar,
    ),
  );
  refreshSelection();
  drawClassTotal();

  const onEvent = (frame) => {
    const data = frame.data || {};
    if (frame.type === "points.awarded" && data.award) {
      if (seenAwards.has(data.award.id)) {
        setTotal(data.award.student.id, data.total);
      } else {
        seenAwards.add(data.award.id);
        setTotal(data.award.student.id, data.total, { celebrate: data.award.points });
      }
    } else if (frame.type === "points.removed" && data.award) {
      setTotal(data.award.student.id, data.total);
    } else if (frame.type === "avatar.updated" && data.student_id) {
      setAvatar(data.student_id, data.avatar);
    }
  };
  ctx.scope.live(`class:${cls.id}:staff`, {
    event: onEvent,
    reset: async () => {
      try {
        const fresh = await api.get(`/api/classes/${cls.id}/points`);
        for (const item of fresh.items) {
          setTotal(item.student.id, item.total);
          setAvatar(item.student.id, item.student.avatar);
        }
      } catch {
        // keep what is shown
      }
    },
  });
}
