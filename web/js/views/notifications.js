// Notification settings on the account page: this device's push notifications (asked for
// only when the person presses the button), what kinds to hear about, email (off,
// instant, daily digest), and every device that receives pushes, each with "Remove".

import * as api from "../api.js";
import { h, field, mount } from "../dom.js";
import { N_, t } from "../i18n.js";
import * as push from "../push.js";
import { busy, errorLine, messageOf, toast } from "../ui.js";

const KINDS = [
  ["posts", N_("Class and school posts")],
  ["messages", N_("Messages")],
  ["points", N_("Points for my child")],
  ["portfolio", N_("New work in the portfolio")],
  ["events", N_("Events and reminders")],
];
const STAFF_KINDS = ["messages"];

export async function notificationSettings(me) {
  const card = h("section", { class: "card stack", "aria-labelledby": "notify-title" });
  const [choices, devices] = await Promise.all([
    api.getOptional("/api/me/notifications", null),
    api.getOptional("/api/push/subscriptions", { items: [] }),
  ]);
  if (!choices) return null;
  const error = errorLine();
  const kinds = me.role === "parent" ? KINDS : KINDS.filter(([key]) => STAFF_KINDS.includes(key));

  const here = h("div", { class: "stack" });
  const drawHere = () => {
    const state = push.permission();
    if (state === "unsupported") {
      mount(here, h("p", { class: "hint" }, t("This browser cannot show notifications. Add Homeroom to your home screen, or use another browser.")));
    } else if (state === "denied") {
      mount(here, h("p", { class: "hint" }, t("Notifications are blocked for Homeroom in this browser's settings.")));
    } else {
      const turnOn = h("button", { type: "button", class: "button button-primary" }, t("Turn on notifications on this device"));
      turnOn.addEventListener("click", () =>
        busy(turnOn, async () => {
          error.clear();
          try {
            if (await push.enable()) {
              toast(t("Notifications are on for this device"));
              await drawDevices();
            }
          } catch (err) {
            error.show(err instanceof api.ApiError ? messageOf(err) : t("This device could not be subscribed. Please try again later."));
          }
          drawHere();
        }),
      );
      mount(
        here,
        h("p", { class: "hint" }, t("Homeroom asks your browser's permission only when you press this button.")),
        turnOn,
      );
    }
  };

  const toggles = kinds.map(([key, label]) => {
    const box = h("input", { type: "checkbox", checked: choices.push[key] !== false, "data-kind": key });
    box.addEventListener("change", async () => {
      try {
        await api.put("/api/me/notifications", { push: { [key]: box.checked } });
      } catch (err) {
        box.checked = !box.checked;
        error.show(messageOf(err));
      }
    });
    return h("label", { class: "switch-row" }, box, t(label));
  });

  const email = h(
    "select",
    { class: "input", name: "email" },
    [
      ["off", t("No emails")],
      ["instant", t("An email for each notification")],
      ["daily", t("One email a day, at 6 pm")],
    ].map(([value, label]) => h("option", { value, selected: choices.email === value }, label)),
  );
  email.addEventListener("change", async () => {
    try {
      await api.put("/api/me/notifications", { email: email.value });
      toast(t("Saved"));
    } catch (err) {
      error.show(messageOf(err));
    }
  });

  const list = h("ul", { class: "device-list" });
  const drawDevices = async () => {
    const found = await api.getOptional("/api/push/subscriptions", { items: [] });
    mount(
      list,
      (found.items || []).length
        ? found.items.map((device) => {
            const remove = h("button", { type: "button", class: "button button-small" }, t("Remove"));
            remove.addEventListener("click", () =>
              busy(remove, async () => {
                try {
                  await api.del(`/api/push/subscriptions/${device.id}`);
                  await drawDevices();
                } catch (err) {
                  error.show(messageOf(err));
                }
              }),
            );
            return h("li", {}, h("span", {}, device.user_agent || device.service || t("A device")), remove);
          })
        : [h("li", { class: "hint" }, t("No device receives notifications yet."))],
    );
  };
  mount(list);
  devices.items = devices.items || [];
  await drawDevices();
  drawHere();

  mount(
    card,
    h("h2", { class: "card-title", id: "notify-title" }, t("Notifications")),
    here,
    h("fieldset", { class: "stack" }, h("legend", {}, t("Tell me about")), toggles),
    field(t("Email"), email),
    h("h3", {}, t("Devices")),
    list,
    error.el,
  );
  return card;
}
