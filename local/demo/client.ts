/**
 * A small client for the app's HTTP API: JSON in and out, the function key (when given) as
 * `x-functions-key`, and a couple of retries for reads, since a deployed app can blip.
 */

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export class AppClient {
  constructor(
    readonly baseUrl: string,
    private readonly key?: string,
  ) {}

  async get<T>(path: string): Promise<ApiResponse<T>> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await this.send<T>('GET', path);
        if (response.status < 500 || attempt >= 3) return response;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
    }
  }

  /** Not retried: placing an order twice answers 409, which the caller should see as it is. */
  post<T>(path: string, body: unknown, extraHeaders: Record<string, string> = {}): Promise<ApiResponse<T>> {
    return this.send<T>('POST', path, body, extraHeaders);
  }

  private async send<T>(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (this.key && !headers['x-functions-key']) headers['x-functions-key'] = this.key;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text for the error message.
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }
}
