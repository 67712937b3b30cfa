// user_api.ts - typed client for the accounts service (users, sessions,
// profile pictures). Retries idempotent calls on 502/503/504 with backoff.

export interface User {
  id: string;
  email: string;
  displayName: string;
  createdAt: string;
  roles: Role[];
  avatarUrl?: string;
}

export type Role = "admin" | "editor" | "viewer";

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly requestId?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

interface ClientOptions {
  baseUrl: string;
  getToken: () => Promise<string>;
  fetchImpl?: typeof fetch;
  maxRetries?: number;
  timeoutMs?: number;
}

const RETRYABLE = new Set([502, 503, 504]);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class UserApi {
  private readonly fetchImpl: typeof fetch;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: ClientOptions) {
    this.fetchImpl = opts.fetchImpl ?? fetch;
    this.maxRetries = opts.maxRetries ?? 3;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const idempotent = method === "GET" || method === "PUT" || method === "DELETE";
    let attempt = 0;
    for (;;) {
      attempt++;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), this.timeoutMs);
      let res: Response;
      try {
        res = await this.fetchImpl(this.opts.baseUrl + path, {
          method,
          headers: {
            Authorization: `Bearer ${await this.opts.getToken()}`,
            "Content-Type": "application/json",
            Accept: "application/json",
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: controller.signal,
        });
      } catch (e) {
        clearTimeout(timer);
        if (idempotent && attempt <= this.maxRetries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw new ApiError(0, "network_error", (e as Error).message);
      }
      clearTimeout(timer);
      if (res.ok) {
        if (res.status === 204) return undefined as T;
        return (await res.json()) as T;
      }
      if (idempotent && RETRYABLE.has(res.status) && attempt <= this.maxRetries) {
        const retryAfter = Number(res.headers.get("Retry-After"));
        await sleep(retryAfter > 0 ? retryAfter * 1000 : this.backoff(attempt));
        continue;
      }
      let problem: any = {};
      try {
        problem = await res.json();
      } catch {
        // not JSON: keep the status only
      }
      throw new ApiError(
        res.status,
        problem.code ?? "http_" + res.status,
        problem.detail ?? res.statusText,
        res.headers.get("X-Request-Id") ?? undefined,
      );
    }
  }

  private backoff(attempt: number): number {
    const base = Math.min(8000, 250 * 2 ** (attempt - 1));
    return base / 2 + Math.random() * (base / 2);
  }

  getUser(id: string): Promise<User> {
    return this.request("GET", `/users/${encodeURIComponent(id)}`);
  }

  me(): Promise<User> {
    return this.request("GET", "/users/me");
  }

  async listUsers(opts: { role?: Role; query?: string; limit?: number } = {}): Promise<User[]> {
    const all: User[] = [];
    let cursor: string | null = null;
    do {
      const params = new URLSearchParams();
      if (opts.role) params.set("role", opts.role);
      if (opts.query) params.set("q", opts.query);
      params.set("limit", String(opts.limit ?? 100));
      if (cursor) params.set("cursor", cursor);
      const page: Page<User> = await this.request("GET", `/users?${params}`);
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  }

  createUser(email: string, displayName: string, roles: Role[] = ["viewer"]): Promise<User> {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
      return Promise.reject(new ApiError(400, "invalid_email", `not an email: ${email}`));
    }
    return this.request("POST", "/users", { email, displayName, roles });
  }

  updateUser(id: string, patch: Partial<Pick<User, "displayName" | "roles">>): Promise<User> {
    return this.request("PUT", `/users/${encodeURIComponent(id)}`, patch);
  }

  deleteUser(id: string): Promise<void> {
    return this.request("DELETE", `/users/${encodeURIComponent(id)}`);
  }

  async uploadAvatar(id: string, file: Blob): Promise<string> {
    if (file.size > 2 * 1024 * 1024) {
      throw new ApiError(413, "avatar_too_large", "avatars are at most 2 MB");
    }
    const { uploadUrl, publicUrl } = await this.request<{ uploadUrl: string; publicUrl: string }>(
      "POST",
      `/users/${encodeURIComponent(id)}/avatar`,
      { contentType: file.type, size: file.size },
    );
    const res = await this.fetchImpl(uploadUrl, { method: "PUT", body: file });
    if (!res.ok) {
      throw new ApiError(res.status, "upload_failed", "the avatar upload failed");
    }
    return publicUrl;
  }

  hasRole(user: User, role: Role): boolean {
    return user.roles.includes(role) || user.roles.includes("admin");
  }
}
