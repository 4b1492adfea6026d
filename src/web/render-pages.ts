import { h } from 'preact';
import { renderDocument, renderFragment } from './render-document.js';
import { StatusPage, MessagePage, type StatusPageProps } from './components/status-page.js';
import { StatusBody } from './components/status-body.js';
import { LoginPage } from './components/login-page.js';
import type { StatusPageData } from '../service/status-page-reads.js';

/**
 * Every page of the status site as HTML, in one module the HTTP router loads on the first page request (so
 * `elrond server` and the CLI start without loading Preact).
 */
export const renderPages = {
  statusPage: (props: StatusPageProps) => renderDocument(h(StatusPage, props)),
  statusBody: (data: StatusPageData, scope: 'all' | 'rollout') => renderFragment(h(StatusBody, { data, scope })),
  message: (props: { title: string; message: string; simulated: string | null; signedIn: boolean }) => renderDocument(h(MessagePage, props)),
  login: (props: { next: string; error: string | null; simulated: string | null }) => renderDocument(h(LoginPage, props)),
};

export type RenderPages = typeof renderPages;
