// The console's pages. Each renders into the view it is given and returns
// once its first data is shown; failures are shown by the shell.
import { api, query } from "./api.js";
import { attempt, me, notify } from "./app.js";
import { field, h, table, toAPITime, when } from "./dom.js";

// ---- who am I ---------------------------------------------------------

async function whoPage(view) {
  const m = me();
  view.append(
    h("h1", {}, "Who am I"),
    h("dl", {},
      h("dt", {}, "Username"), h("dd", {}, m.user.username),
      h("dt", {}, "User ID"), h("dd", {}, m.user.id || "—"),
      h("dt", {}, "Role"), h("dd", {}, m.user.role),
      h("dt", {}, "Signed in with"), h("dd", {}, m.authMethod === "session" ? "browser session (httpOnly cookie)" : m.authMethod),
      h("dt", {}, "Session token expires"), h("dd", {}, when(m.expiresAt), h("span", { class: "muted" }, " (renewed automatically)")),
      h("dt", {}, "Permissions"), h("dd", {}, m.permissions.join(", "))));
}

// ---- API keys ---------------------------------------------------------

function secretPanel(title, key) {
  const code = h("code", { "data-testid": "key-secret" }, key);
  const status = h("span", { role: "status", class: "muted" });
  const panel = h("section", { class: "secret", "aria-label": title },
    h("h2", {}, title),
    h("p", {}, h("strong", {}, "Copy this key now. "), "It is shown only this once: m9m keeps only a digest of it and cannot show it again."),
    code,
    h("div", { class: "row" },
      h("button", {
        type: "button",
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(key);
            status.textContent = "Copied.";
          } catch {
            status.textContent = "Copy failed: select the key and copy it by hand.";
          }
        },
      }, "Copy key"),
      h("button", { type: "button", class: "secondary", onclick: () => panel.remove() }, "I have stored it"),
      status));
  return panel;
}

async function keysPage(view) {
  const m = me();
  const slot = h("div");
  const list = h("div");
  const scopes = m.permissions.map((p) =>
    h("label", {}, h("input", { type: "checkbox", name: "scope", value: p, checked: true }), p));
  const [nameLabel, nameInput] = field("key-name", "Name", { "data-testid": "key-name", required: true, maxlength: 100 });
  const [expLabel, expInput] = field("key-expires", "Expires (optional)", { type: "datetime-local" });
  const form = h("form", { class: "stack", onsubmit: create },
    nameLabel, nameInput, expLabel, expInput,
    h("fieldset", {}, h("legend", {}, "Scopes (none ticked: all of yours)"), scopes),
    h("button", { type: "submit", "data-testid": "key-create" }, "Create key"));

  async function create(ev) {
    ev.preventDefault();
    await attempt(async () => {
      const body = { name: nameInput.value.trim() };
      const exp = toAPITime(expInput.value);
      if (exp) body.expiresAt = exp;
      const picked = scopes.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
      if (picked.length && picked.length < m.permissions.length) body.scopes = picked;
      const k = await api("POST", "/api/v1/api-keys", body);
      form.reset();
      await load(); // the list first: once the key shows, the page is settled
      slot.replaceChildren(secretPanel(`New key “${k.name}”`, k.key));
      slot.querySelector("button").focus();
    });
  }

  async function load() {
    const r = await api("GET", "/api/v1/api-keys");
    const rows = r.data.map((k) => {
      const grace = h("input", { type: "number", min: 0, max: 86400, value: 0, class: "small", "aria-label": `Grace seconds for ${k.name}` });
      return h("tr", { "data-testid": "key-row", "data-id": k.id },
        h("td", {}, k.name), h("td", {}, h("code", {}, k.prefix)), h("td", {}, (k.scopes || []).join(", ")),
        h("td", {}, when(k.createdAt)), h("td", {}, when(k.expiresAt)), h("td", {}, when(k.lastUsedAt)),
        h("td", {},
          h("div", { class: "row" },
            grace,
            h("button", {
              type: "button", class: "secondary", "data-testid": "key-rotate",
              onclick: () => attempt(async () => {
                const g = Number(grace.value) || 0;
                const n = await api("POST", `/api/v1/api-keys/${encodeURIComponent(k.id)}/rotate`, g > 0 ? { graceSeconds: g } : undefined);
                await load();
                slot.replaceChildren(secretPanel(`Rotated key “${n.name}”`, n.key));
                slot.querySelector("button").focus();
              }),
            }, "Rotate"),
            h("button", {
              type: "button", class: "danger", "data-testid": "key-revoke",
              onclick: () => attempt(async () => {
                await api("DELETE", `/api/v1/api-keys/${encodeURIComponent(k.id)}`);
                notify(`Key “${k.name}” revoked.`);
                await load();
              }),
            }, "Revoke"))));
    });
    list.replaceChildren(rows.length
      ? table("Your API keys", ["Name", "Prefix", "Scopes", "Created", "Expires", "Last used", "Actions"], rows)
      : h("p", { class: "muted" }, "No API keys yet."));
  }

  view.append(h("h1", {}, "API keys"), slot, h("h2", {}, "Create a key"), form, h("h2", {}, "Your keys"), list);
  await load();
}

// ---- sessions ---------------------------------------------------------

async function sessionsPage(view) {
  const list = h("div");
  async function end(id) {
    await api("DELETE", `/api/v1/auth/sessions/${encodeURIComponent(id)}`);
  }
  async function load() {
    const r = await api("GET", "/api/v1/auth/sessions");
    const others = r.data.filter((s) => !s.current);
    const rows = r.data.map((s) =>
      h("tr", { "data-testid": "session-row", "data-current": s.current ? "true" : "false", "data-id": s.id },
        h("td", {}, when(s.createdAt), s.current ? [" ", h("span", { class: "badge" }, "this browser")] : null),
        h("td", {}, when(s.lastRefreshedAt)), h("td", {}, s.ip), h("td", {}, s.userAgent),
        h("td", {}, h("button", {
          type: "button", class: "danger", "data-testid": "session-end",
          "aria-label": s.current ? "End this session (signs you out)" : `End the session from ${s.ip}`,
          onclick: () => attempt(async () => {
            await end(s.id);
            if (s.current) {
              location.reload(); // the cookie is gone: back to sign-in
              return;
            }
            notify("Session ended.");
            await load();
          }),
        }, s.current ? "End (sign out)" : "End"))));
    list.replaceChildren(
      table("Your live sessions", ["Started", "Last refreshed", "IP", "Browser", ""], rows),
      h("div", { class: "row" }, h("button", {
        type: "button", class: "danger", id: "sessions-end-others", disabled: others.length === 0,
        onclick: () => attempt(async () => {
          for (const s of others) await end(s.id);
          notify(`${others.length} other session(s) ended.`);
          await load();
        }),
      }, "End all other sessions")));
  }
  view.append(h("h1", {}, "My sessions"), list);
  await load();
}

// ---- password ---------------------------------------------------------

async function passwordPage(view) {
  const [curLabel, cur] = field("password-current", "Current password", { type: "password", "data-testid": "password-current", autocomplete: "current-password", required: true });
  const [newLabel, next] = field("password-new", "New password (8 characters or more)", { type: "password", "data-testid": "password-new", autocomplete: "new-password", required: true, minlength: 8, maxlength: 1024 });
  const form = h("form", {
    class: "stack",
    onsubmit: (ev) => {
      ev.preventDefault();
      attempt(async () => {
        await api("POST", "/api/v1/auth/password", { currentPassword: cur.value, newPassword: next.value });
        form.reset();
        notify("Password changed. Your other sessions have been signed out.");
      });
    },
  }, curLabel, cur, newLabel, next, h("button", { type: "submit", "data-testid": "password-submit" }, "Change password"));
  view.append(h("h1", {}, "Change password"), form);
}

// ---- users (admin) ----------------------------------------------------

const roles = ["admin", "editor", "viewer"];

async function usersPage(view) {
  const list = h("div");
  const more = h("div");
  const [uLabel, uInput] = field("user-username", "Username", { required: true, maxlength: 64, autocomplete: "off" });
  const [pLabel, pInput] = field("user-password", "Password", { type: "password", required: true, autocomplete: "new-password", minlength: 8 });
  const roleSelect = h("select", { id: "user-role" }, roles.map((r) => h("option", { value: r, selected: r === "viewer" }, r)));
  const form = h("form", {
    class: "stack",
    onsubmit: (ev) => {
      ev.preventDefault();
      attempt(async () => {
        const u = await api("POST", "/api/v1/users", { username: uInput.value.trim(), password: pInput.value, role: roleSelect.value });
        form.reset();
        notify(`User “${u.username}” created.`);
        await load();
      });
    },
  }, uLabel, uInput, pLabel, pInput, h("label", { for: "user-role" }, "Role"), roleSelect, h("button", { type: "submit" }, "Create user"));

  function row(u) {
    const self = u.id === me().user.id;
    const role = h("select", {
      "aria-label": `Role of ${u.username}`, disabled: self,
      onchange: () => attempt(async () => {
        await api("PATCH", `/api/v1/users/${encodeURIComponent(u.id)}`, { role: role.value });
        notify(`${u.username} is now ${role.value}; their sessions were ended.`);
      }),
    }, roles.map((r) => h("option", { value: r, selected: r === u.role }, r)));
    return h("tr", { "data-testid": "user-row", "data-id": u.id },
      h("td", {}, u.username, self ? " (you)" : null), h("td", {}, role),
      h("td", {}, u.disabled ? h("span", { class: "badge off" }, "disabled") : "active"),
      h("td", {}, when(u.createdAt)),
      h("td", {}, h("button", {
        type: "button", class: u.disabled ? "secondary" : "danger", disabled: self,
        onclick: () => attempt(async () => {
          await api("PATCH", `/api/v1/users/${encodeURIComponent(u.id)}`, { disabled: !u.disabled });
          notify(`${u.username} ${u.disabled ? "enabled" : "disabled"}.`);
          await load();
        }),
      }, u.disabled ? "Enable" : "Disable"), " ", self ? null : h("button", {
        type: "button", class: "secondary", "data-testid": "user-delete",
        "aria-label": `Delete ${u.username}…`,
        onclick: (ev) => ev.currentTarget.replaceWith(deleteChoice(u)),
      }, "Delete…")));
  }

  // Deleting a user never silently deletes the team's workflows: the admin
  // chooses to transfer them to an enabled editor or admin, to delete them,
  // or to be refused (409, with the count) if there are any.
  function deleteChoice(u) {
    const targets = loaded.filter((o) => o.id !== u.id && !o.disabled && (o.role === "admin" || o.role === "editor"));
    const choice = h("select", { "data-testid": "user-delete-workflows", "aria-label": `Workflows of ${u.username}` },
      h("option", { value: "" }, "Their workflows: refuse if they own any"),
      targets.map((o) => h("option", { value: "transfer:" + o.id }, `Their workflows: transfer to ${o.username}`)),
      h("option", { value: "delete" }, "Their workflows: delete them too"));
    const confirm = h("button", {
      type: "button", class: "danger", "data-testid": "user-delete-confirm",
      onclick: () => attempt(async () => {
        const v = choice.value;
        const q = v === "delete" ? { deleteWorkflows: "true" } : v.startsWith("transfer:") ? { transferTo: v.slice(9) } : {};
        await api("DELETE", `/api/v1/users/${encodeURIComponent(u.id)}` + query(q));
        notify(`${u.username} deleted.`);
        await load();
      }),
    }, `Delete ${u.username}`);
    const box = h("span", { class: "inline-choice" }, choice, " ", confirm, " ",
      h("button", { type: "button", class: "secondary", onclick: () => load() }, "Cancel"));
    queueMicrotask(() => choice.focus());
    return box;
  }

  let loaded = [];
  async function load(cursor) {
    const r = await api("GET", "/api/v1/users" + query({ cursor }));
    loaded = cursor ? loaded.concat(r.data) : r.data;
    const rows = r.data.map(row);
    if (cursor) list.querySelector("tbody").append(...rows);
    else list.replaceChildren(table("Users", ["Username", "Role", "Status", "Created", ""], rows));
    more.replaceChildren(r.nextCursor ? h("button", { type: "button", class: "secondary", onclick: () => attempt(() => load(r.nextCursor)) }, "More users") : "");
  }
  view.append(h("h1", {}, "Users"), h("h2", {}, "Create a user"), form, h("h2", {}, "All users"), list, more);
  await load();
}

// ---- audit log (admin) ------------------------------------------------

const actions = ["auth.login", "auth.refresh", "auth.logout", "auth.session_end", "auth.password_change", "auth.throttled",
  "auth.basic_failure", "api_key.create", "api_key.rotate", "api_key.revoke", "user.create", "user.update", "user.delete"];

async function auditPage(view) {
  const list = h("div");
  const more = h("div");
  const [aLabel, actor] = field("audit-actor", "Actor (user ID)", { maxlength: 128, autocomplete: "off" });
  const action = h("select", { id: "audit-action" }, h("option", { value: "" }, "any"), actions.map((a) => h("option", { value: a }, a)));
  const [fLabel, from] = field("audit-from", "From", { type: "datetime-local" });
  const [tLabel, to] = field("audit-to", "To", { type: "datetime-local" });
  const form = h("form", {
    class: "row",
    onsubmit: (ev) => {
      ev.preventDefault();
      attempt(() => load());
    },
  }, h("label", {}, aLabel, actor), h("label", { for: "audit-action" }, "Action", action), h("label", {}, fLabel, from), h("label", {}, tLabel, to),
  h("button", { type: "submit" }, "Filter"));

  async function load(cursor) {
    const q = { actor: actor.value.trim(), action: action.value, from: toAPITime(from.value), to: toAPITime(to.value), cursor };
    const r = await api("GET", "/api/v1/audit-events" + query(q));
    const rows = r.data.map((e) => h("tr", { "data-testid": "audit-row" },
      h("td", {}, when(e.time)), h("td", {}, e.actorName || e.actorId || "—"), h("td", {}, e.action),
      h("td", {}, e.targetType ? `${e.targetType} ${e.targetId}` : "—"), h("td", {}, e.ip), h("td", {}, e.outcome)));
    list.replaceChildren(rows.length
      ? table("Audit events, newest first", ["Time", "Actor", "Action", "Target", "IP", "Outcome"], rows)
      : h("p", { class: "muted" }, "No events match."));
    more.replaceChildren(r.nextCursor ? h("button", { type: "button", class: "secondary", onclick: () => attempt(() => load(r.nextCursor)) }, "Next page") : "");
  }
  view.append(h("h1", {}, "Audit log"), form, list, more);
  await load();
}

export const pages = {
  me: whoPage,
  keys: keysPage,
  sessions: sessionsPage,
  password: passwordPage,
  users: usersPage,
  audit: auditPage,
};
