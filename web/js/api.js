// The console's API client: every call carries the analyst's ID token (the Authorization
// header API Gateway's Cognito authorizer reads). An error answer becomes an Error whose
// message is the API's own words (the pipeline's message for a bad run parameter).

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export function client(baseUrl, tokenSource, onUnauthorized) {
  async function call(method, path, body) {
    const headers = {};
    const token = tokenSource();
    if (token) headers.Authorization = token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (response.status === 401 && onUnauthorized) onUnauthorized();
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }
  return {
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body),
  };
}
