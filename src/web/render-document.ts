import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';

/** A whole page: the doctype, then the server-rendered tree (every text and attribute escaped by Preact). */
export function renderDocument<P>(page: VNode<P>): string {
  return `<!doctype html>${renderToString(page)}`;
}

/** A fragment the live script swaps into the page. */
export function renderFragment<P>(part: VNode<P>): string {
  return renderToString(part);
}
