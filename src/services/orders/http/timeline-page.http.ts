/**
 * GET /api/timeline: the saga timeline page (recent orders; one order's steps and compensations
 * on a time axis, live while it runs). Anonymous on purpose: the page itself holds no data. Its
 * script reads GET /api/orders and GET /api/orders/{id}/timeline, which need the function key in
 * Azure: it takes the key from the fragment it was opened with (`#key=…`, which no request
 * carries) and sends it in the x-functions-key header.
 */
import { app, type HttpResponseInit } from '@azure/functions';
import { createHash } from 'node:crypto';
import { TIMELINE_PAGE, TIMELINE_SCRIPT, TIMELINE_STYLE } from './timeline-page.html';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** Only this page's own script and style run, and it talks to its own origin only. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${sha256(TIMELINE_SCRIPT)}`,
  `style-src ${sha256(TIMELINE_STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function timelinePageHttp(): HttpResponseInit {
  return {
    status: 200,
    body: TIMELINE_PAGE,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      // A key given as ?code= (instead of the fragment) would be in the URL: never send it on as a Referer.
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    },
  };
}

app.http('timelinePageHttp', {
  route: 'timeline',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: timelinePageHttp,
});
