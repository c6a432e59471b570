// The page's API client: the same endpoints as every other client, with a bearer token
// sent only in the Authorization header of same-origin requests.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export class Api {
  constructor() {
    this.token = null;
  }

  headers(json) {
    const h = { Accept: "application/json" };
    if (json) h["Content-Type"] = "application/json";
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    return h;
  }

  async call(method, path, { params, body } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [k, v] of Object.entries(params || {})) {
      for (const one of [].concat(v)) if (one !== undefined && one !== null) url.searchParams.append(k, one);
    }
    const res = await fetch(url, {
      method, headers: this.headers(body !== undefined), credentials: "omit", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let data = {};
    try { data = text ? JSON.parse(text) : {}; } catch { data = { detail: text.slice(0, 200) }; }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  get(path, params) { return this.call("GET", path, { params }); }
  post(path, body) { return this.call("POST", path, { body }); }

  // How this server wants the page to authenticate (see docs/web.md).
  async session() {
    const res = await fetch("/web/session", { headers: { "X-CCM-Web": "1" }, credentials: "omit", cache: "no-store" });
    if (!res.ok) return { mode: "paste" };
    return res.json();
  }
}
