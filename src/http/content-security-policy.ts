/**
 * A Content-Security-Policy on every HTML page, whoever renders it: Assent's own pages (which also set it,
 * src/interaction/page-headers.ts), the demo TPP, and oidc-provider's own pages (error, logout, form_post,
 * device flow). The policy is set before the request runs, so oidc-provider adds the hash of the inline
 * script it writes itself (form_post); afterwards any inline `<script>` or `<style>` block left in an
 * HTML body gets its `sha256-` hash added, so no page needs 'unsafe-inline'. Non-HTML answers carry none.
 */
import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';

export const PAGE_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

const INLINE_SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;
const INLINE_STYLE = /<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi;

function hash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** `policy` with `sources` added to `directive` (each once). */
export function withSources(policy: string, directive: string, sources: string[]): string {
  if (sources.length === 0) return policy;
  const parts = policy.split(';').map((p) => p.trim()).filter(Boolean);
  const index = parts.findIndex((p) => p.split(/\s+/)[0] === directive);
  if (index === -1) return [...parts, `${directive} ${[...new Set(sources)].join(' ')}`].join('; ');
  const present = new Set(parts[index]!.split(/\s+/));
  const added = sources.filter((s) => !present.has(s) && (present.add(s), true));
  if (added.length > 0) parts[index] = `${parts[index]} ${added.join(' ')}`;
  return parts.join('; ');
}

/** The policy for `html`: `policy` plus the hashes of its inline script and style blocks. */
export function policyFor(html: string, policy: string): string {
  const scripts = [...html.matchAll(INLINE_SCRIPT)].filter((m) => !/\bsrc\s*=/i.test(m[1] ?? '')).map((m) => hash(m[2] ?? ''));
  const styles = [...html.matchAll(INLINE_STYLE)].map((m) => hash(m[1] ?? ''));
  return withSources(withSources(policy, 'script-src', scripts), 'style-src', styles);
}

export function contentSecurityPolicy(): Middleware {
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', PAGE_POLICY);
    try {
      await next();
    } finally {
      if (ctx.response.is('html')) {
        const current = ctx.response.get('Content-Security-Policy') || PAGE_POLICY;
        ctx.set('Content-Security-Policy', typeof ctx.body === 'string' ? policyFor(ctx.body, current) : current);
      } else {
        ctx.remove('Content-Security-Policy');
      }
    }
  };
}
