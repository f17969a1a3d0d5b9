import { sameSecret } from "../security/secrets.ts";
import { textResponse, type BackendView, type ViewRequest, type ViewResponse } from "./view.ts";

/**
 * `view`, answering only requests that carry `token`: as `?token=` in the URL the gateway is given,
 * or in an `X-RapidSMS-Token` header. Anything else is a 403 that says what is missing, before
 * the request is read any further.
 */
export function withToken(view: BackendView, token: string): BackendView {
  return {
    path: view.path,
    async handle(request: ViewRequest): Promise<ViewResponse> {
      const header = request.headers?.["x-rapidsms-token"];
      const given = typeof header === "string" ? header : new URL(request.url, "http://gateway.invalid").searchParams.get("token");
      if (given === null || !sameSecret(given, token))
        return textResponse(403, "forbidden: this endpoint needs the backend's inboundToken, as ?token= in its URL or an X-RapidSMS-Token header");
      // The token is no field of the message: it never reaches the form, the store or the logs.
      const { token: _token, ...query } = request.query;
      return view.handle({ ...request, url: withoutToken(request.url), query });
    },
  };
}

/** The URL as received, without its `token` parameters; the other bytes stay as they came (the view decodes them strictly). */
function withoutToken(url: string): string {
  const at = url.indexOf("?");
  if (at === -1) return url;
  const kept = url
    .slice(at + 1)
    .split("&")
    .filter((pair) => pair.split("=", 1)[0] !== "token");
  return kept.length > 0 ? `${url.slice(0, at)}?${kept.join("&")}` : url.slice(0, at);
}
