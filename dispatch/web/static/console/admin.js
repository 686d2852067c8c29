// The admin screens: members, roles, API tokens, device tokens, on the organization API
// (dispatch/accounts/api.py). Each screen loads its list, and its forms show the API's field errors
// next to the field; a removal or revocation asks once more on the same button's place.
import { html, useState } from "../vendor/htm-3.1.1/standalone.module.js";
import { api } from "./api.js";
import { Checks, Field, FormError, Status, t, useForm, useLoad } from "./ui.js";

const i18n = window.DispatchI18n;
const org = (me) => `/orgs/${me.organization.id}`;
const roleOptions = (roles) => roles.map((r) => ({ value: r.id, label: r.name }));

// A destructive action: the first press asks, the second does it; Escape or "keep" cancels.
export function Confirmed({ label, confirmLabel, onConfirm, id }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState(null);
  if (!asking) return html`<button type="button" class="danger" id=${id} onClick=${() => setAsking(true)}>${label}</button>`;
  return html`<span class="confirm" onKeyDown=${(e) => e.key === "Escape" && setAsking(false)}>
    <button type="button" class="danger" id=${id && `${id}-confirm`} autofocus
      onClick=${() => onConfirm().catch(setError)}>${confirmLabel}</button>
    <button type="button" onClick=${() => setAsking(false)}>${t("console.keep")}</button>
    ${error && html`<span class="error" role="alert">${error.message}</span>`}</span>`;
}

// -- members --------------------------------------------------------------------------------------

function MemberRow({ me, member, roles, reload }) {
  const [editing, setEditing] = useState(false);
  const [chosen, setChosen] = useState(member.roles.map((r) => r.id));
  const [error, setError] = useState(null);
  async function save(event) {
    event.preventDefault();
    try {
      await api("PUT", `${org(me)}/members/${member.user_id}/roles`, { role_ids: chosen });
      await reload(); // the row leaves editing showing the roles as stored
      setEditing(false);
      setError(null);
    } catch (err) { setError(err); }
  }
  return html`<tr id=${`member-${member.user_id}`}>
    <td>${member.name}</td><td>${member.email}</td>
    <td>${editing
      ? html`<form onSubmit=${save} class="inline">
          <${Checks} name="role_ids" legend=${t("console.members.roles")} options=${roleOptions(roles)}
            chosen=${chosen} onChange=${setChosen} error=${error && error.fields.role_ids} />
          <${FormError} error=${error} />
          <button type="submit">${t("console.save")}</button>
          <button type="button" onClick=${() => setEditing(false)}>${t("console.cancel")}</button></form>`
      : member.roles.map((r) => r.name).sort().join(", ")}</td>
    <td class="actions">
      ${!editing && html`<button type="button" onClick=${() => setEditing(true)}>${t("console.members.change_roles")}</button>`}
      ${member.user_id !== me.user_id && html`<${Confirmed} label=${t("console.members.remove")}
        confirmLabel=${t("console.members.remove_confirm", { name: member.name })}
        onConfirm=${() => api("DELETE", `${org(me)}/members/${member.user_id}`).then(reload)} />`}
    </td></tr>`;
}

export function Members({ me }) {
  const members = useLoad(() => api("GET", `${org(me)}/members?limit=500`), [me]);
  const roles = useLoad(() => api("GET", `${org(me)}/roles`), [me]);
  const form = useForm({ email: "", name: "", password: "", role_ids: [] }, async (values) => {
    await api("POST", `${org(me)}/members`, values, { fieldOfCode: { email_taken: "email" } });
    await members.reload();
  });
  return html`<section aria-labelledby="members-title">
    <h2 id="members-title">${t("console.nav.members")}</h2>
    <${Status} state=${members} />
    ${members.data && roles.data && html`<table class="list" id="members">
      <caption class="sr-only">${t("console.nav.members")}</caption>
      <thead><tr><th scope="col">${t("console.members.name")}</th><th scope="col">${t("console.members.email")}</th>
        <th scope="col">${t("console.members.roles")}</th><th scope="col">${t("console.actions")}</th></tr></thead>
      <tbody>${members.data.items.map((m) => html`<${MemberRow} key=${m.user_id} me=${me} member=${m}
        roles=${roles.data} reload=${members.reload} />`)}</tbody></table>`}
    ${roles.data && html`<form class="panel" id="add-member" onSubmit=${form.submit} aria-labelledby="add-member-title" novalidate>
      <h3 id="add-member-title">${t("console.members.add")}</h3>
      <${Field} name="email" type="email" label=${t("console.members.email")} value=${form.values.email}
        onInput=${form.set("email")} error=${form.fieldError("email")} required autocomplete="off" />
      <${Field} name="name" label=${t("console.members.name")} value=${form.values.name}
        onInput=${form.set("name")} error=${form.fieldError("name")} required autocomplete="off" />
      <${Field} name="password" type="password" label=${t("console.members.password")} value=${form.values.password}
        onInput=${form.set("password")} error=${form.fieldError("password")} required autocomplete="new-password" />
      <${Checks} name="role_ids" legend=${t("console.members.roles")} options=${roleOptions(roles.data)}
        chosen=${form.values.role_ids} onChange=${form.set("role_ids")} error=${form.fieldError("role_ids")} />
      <${FormError} error=${form.error} />
      <button type="submit" disabled=${form.busy}>${t("console.members.add_submit")}</button>
    </form>`}
  </section>`;
}

// -- roles ----------------------------------------------------------------------------------------

export function Roles({ me }) {
  const roles = useLoad(() => api("GET", `${org(me)}/roles`), [me]);
  const permissions = useLoad(() => api("GET", "/permissions"), []);
  const form = useForm({ name: "", description: "", permissions: [] }, async (values) => {
    await api("POST", `${org(me)}/roles`, values, { fieldOfCode: { role_name_taken: "name" } });
    await roles.reload();
  });
  return html`<section aria-labelledby="roles-title">
    <h2 id="roles-title">${t("console.nav.roles")}</h2>
    <${Status} state=${roles} />
    ${roles.data && html`<table class="list" id="roles">
      <thead><tr><th scope="col">${t("console.roles.name")}</th><th scope="col">${t("console.roles.permissions")}</th>
        <th scope="col">${t("console.actions")}</th></tr></thead>
      <tbody>${roles.data.map((r) => html`<tr key=${r.id} id=${`role-${r.id}`}>
        <td>${r.name} ${r.builtin && html`<span class="tag">${t("console.roles.builtin")}</span>`}
          <div class="muted">${r.description}</div></td>
        <td class="perms">${r.permissions.join(", ")}</td>
        <td class="actions">${!r.builtin && html`<${Confirmed} label=${t("console.roles.delete")}
          confirmLabel=${t("console.roles.delete_confirm", { name: r.name })}
          onConfirm=${() => api("DELETE", `${org(me)}/roles/${r.id}`).then(roles.reload)} />`}</td></tr>`)}
      </tbody></table>`}
    ${permissions.data && html`<form class="panel" id="add-role" onSubmit=${form.submit} aria-labelledby="add-role-title" novalidate>
      <h3 id="add-role-title">${t("console.roles.create")}</h3>
      <${Field} name="name" label=${t("console.roles.name")} value=${form.values.name}
        onInput=${form.set("name")} error=${form.fieldError("name")} required autocomplete="off" />
      <${Field} name="description" label=${t("console.roles.description")} value=${form.values.description}
        onInput=${form.set("description")} error=${form.fieldError("description")} autocomplete="off" />
      <${Checks} name="permissions" legend=${t("console.roles.permissions")}
        options=${permissions.data.map((p) => ({ value: p.code, label: `${p.code} — ${p.description}` }))}
        chosen=${form.values.permissions} onChange=${form.set("permissions")} error=${form.fieldError("permissions")} />
      <${FormError} error=${form.error} />
      <button type="submit" disabled=${form.busy}>${t("console.roles.create_submit")}</button>
    </form>`}
  </section>`;
}

// -- API tokens -----------------------------------------------------------------------------------

function tokenState(token) {
  if (token.revoked_at) return t("console.tokens.revoked", { when: i18n.dateTime(token.revoked_at) });
  if (token.expires_at && new Date(token.expires_at) < new Date()) return t("console.tokens.expired");
  return t("console.tokens.active");
}

// The secret of a token just issued: shown this once, with a copy button.
function Secret({ token, onDone }) {
  const [copied, setCopied] = useState(null);
  async function copy() {
    try { await navigator.clipboard.writeText(token); setCopied("console.tokens.copied"); }
    catch (err) { document.getElementById("secret-value").select(); setCopied("console.tokens.copy_by_hand"); }
  }
  return html`<div class="panel secret" id="secret" role="status">
    <h3>${t("console.tokens.secret_title")}</h3>
    <p>${t("console.tokens.secret_once")}</p>
    <label for="secret-value" class="sr-only">${t("console.tokens.secret_title")}</label>
    <input id="secret-value" readonly value=${token} onFocus=${(e) => e.currentTarget.select()} />
    <button type="button" id="copy-secret" onClick=${copy}>${t("console.tokens.copy")}</button>
    ${copied && html`<span class="muted">${t(copied)}</span>`}
    <button type="button" id="secret-done" onClick=${onDone}>${t("console.tokens.secret_done")}</button>
  </div>`;
}

export function ApiTokens({ me }) {
  const tokens = useLoad(() => api("GET", `${org(me)}/api-tokens`), [me]);
  const roles = useLoad(() => api("GET", `${org(me)}/roles`), [me]);
  const [secret, setSecret] = useState(null);
  const form = useForm({ name: "", role_id: "" }, async (values) => {
    const issued = await api("POST", `${org(me)}/api-tokens`, values);
    setSecret(issued.token);
    await tokens.reload();
  });
  const roleField = html`<div class="field">
    <label for="token-role">${t("console.tokens.role")}</label>
    <select id="token-role" name="role_id" value=${form.values.role_id} required
      aria-invalid=${form.fieldError("role_id") ? "true" : "false"}
      onChange=${(e) => form.set("role_id")(e.currentTarget.value)}>
      <option value="">${t("console.tokens.choose_role")}</option>
      ${(roles.data || []).map((r) => html`<option key=${r.id} value=${r.id}>${r.name}</option>`)}
    </select>
    ${form.fieldError("role_id") && html`<p class="field-error error" data-field="role_id">${form.fieldError("role_id")}</p>`}
  </div>`;
  return html`<section aria-labelledby="tokens-title">
    <h2 id="tokens-title">${t("console.nav.api_tokens")}</h2>
    ${secret && html`<${Secret} token=${secret} onDone=${() => setSecret(null)} />`}
    <${Status} state=${tokens} />
    ${tokens.data && html`<table class="list" id="api-tokens">
      <thead><tr><th scope="col">${t("console.tokens.name")}</th><th scope="col">${t("console.tokens.role")}</th>
        <th scope="col">${t("console.tokens.created")}</th><th scope="col">${t("console.tokens.state")}</th>
        <th scope="col">${t("console.actions")}</th></tr></thead>
      <tbody>${tokens.data.map((k) => html`<tr key=${k.id} id=${`api-token-${k.id}`}>
        <td>${k.name}</td><td>${k.role.name}</td><td>${i18n.dateTime(k.created_at)}</td>
        <td class="state">${tokenState(k)}</td>
        <td class="actions">${!k.revoked_at && html`<${Confirmed} label=${t("console.tokens.revoke")}
          confirmLabel=${t("console.tokens.revoke_confirm", { name: k.name })}
          onConfirm=${() => api("POST", `${org(me)}/api-tokens/${k.id}/revoke`).then(tokens.reload)} />`}</td></tr>`)}
      </tbody></table>`}
    <form class="panel" id="add-api-token" onSubmit=${form.submit} aria-labelledby="add-token-title" novalidate>
      <h3 id="add-token-title">${t("console.tokens.create")}</h3>
      <${Field} name="name" label=${t("console.tokens.name")} value=${form.values.name}
        onInput=${form.set("name")} error=${form.fieldError("name")} required autocomplete="off" />
      ${roleField}
      <${FormError} error=${form.error} />
      <button type="submit" disabled=${form.busy}>${t("console.tokens.create_submit")}</button>
    </form>
  </section>`;
}

// -- device tokens --------------------------------------------------------------------------------

export function DeviceTokens({ me }) {
  const tokens = useLoad(() => api("GET", `${org(me)}/device-tokens`), [me]);
  // The drivers' names, when the person may read the members (else the user id is shown).
  const members = useLoad(async () => (me.permissions.includes("org.manage_members")
    ? api("GET", `${org(me)}/members?limit=500`) : { items: [] }), [me]);
  const driver = (id) => {
    const found = ((members.data && members.data.items) || []).find((m) => m.user_id === id);
    return found ? found.name : html`<code>${id}</code>`;
  };
  return html`<section aria-labelledby="devices-title">
    <h2 id="devices-title">${t("console.nav.device_tokens")}</h2>
    <p class="muted">${t("console.devices.how")}</p>
    <${Status} state=${tokens} />
    ${tokens.data && (tokens.data.length === 0
      ? html`<p id="no-devices">${t("console.devices.none")}</p>`
      : html`<table class="list" id="device-tokens">
      <thead><tr><th scope="col">${t("console.tokens.name")}</th><th scope="col">${t("console.devices.driver")}</th>
        <th scope="col">${t("console.tokens.created")}</th><th scope="col">${t("console.tokens.state")}</th>
        <th scope="col">${t("console.actions")}</th></tr></thead>
      <tbody>${tokens.data.map((k) => html`<tr key=${k.id} id=${`device-token-${k.id}`}>
        <td>${k.name}</td><td>${driver(k.user_id)}</td><td>${i18n.dateTime(k.created_at)}</td>
        <td class="state">${tokenState(k)}</td>
        <td class="actions">${!k.revoked_at && html`<${Confirmed} label=${t("console.tokens.revoke")}
          confirmLabel=${t("console.tokens.revoke_confirm", { name: k.name })}
          onConfirm=${() => api("POST", `${org(me)}/device-tokens/${k.id}/revoke`).then(tokens.reload)} />`}</td></tr>`)}
      </tbody></table>`)}
  </section>`;
}
