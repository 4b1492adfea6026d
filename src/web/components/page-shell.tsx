import type { ComponentChildren } from 'preact';

export interface ShellProps {
  title: string;
  /** One line saying what the simulator does, when the provisioner is simulated. */
  simulated: string | null;
  /** Show "Sign out" (the page was opened with a session cookie). */
  signedIn: boolean;
  /** Where the live script fetches the refreshed body; absent on pages that do not update. */
  liveUrl?: string;
  children: ComponentChildren;
}

/** The document around every page: head, header, the simulated-provisioner banner, footer. */
export function PageShell(props: ShellProps) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{props.title}</title>
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/assets/status.css" />
        {props.liveUrl && <script type="module" src="/assets/live.js" />}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">
            Elrond
          </a>
          <span class="subtitle">release status</span>
          <span id="live-indicator" class="live-indicator" hidden />
          {props.signedIn && (
            <form method="post" action="/logout" class="signout">
              <button type="submit">Sign out</button>
            </form>
          )}
        </header>
        {props.simulated !== null && (
          <div class="banner simulated" role="note">
            <strong>Simulated provisioner</strong> — no real installation is updated ({props.simulated}).
          </div>
        )}
        <main id="live" {...(props.liveUrl ? { 'data-live-url': props.liveUrl } : {})}>
          {props.children}
        </main>
        <footer class="bottom">Read-only view: releases are started, approved and stopped with the elrond CLI, /elrond in Mattermost, or the REST API.</footer>
      </body>
    </html>
  );
}
