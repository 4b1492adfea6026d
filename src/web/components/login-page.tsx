import { PageShell } from './page-shell.js';

/** The one form of the page: a token in, a session cookie out. */
export function LoginPage({ next, error, simulated }: { next: string; error: string | null; simulated: string | null }) {
  return (
    <PageShell title="Elrond — sign in" simulated={simulated} signedIn={false}>
      <form method="post" action="/login" class="login">
        <h1>Sign in to see releases</h1>
        <p>This Elrond server needs a token to show its rings and rollouts.</p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required />
        <input type="hidden" name="next" value={next} />
        <button type="submit">Sign in</button>
      </form>
    </PageShell>
  );
}
