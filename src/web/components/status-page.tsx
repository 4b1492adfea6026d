import type { StatusPageData } from '../../service/status-page-reads.js';
import { PageShell } from './page-shell.js';
import { StatusBody } from './status-body.js';

export interface StatusPageProps {
  data: StatusPageData;
  scope: 'all' | 'rollout';
  simulated: string | null;
  signedIn: boolean;
  liveUrl: string;
}

/** `/` and `/rollouts/{id}`: the whole document, with the live body inside. */
export function StatusPage(props: StatusPageProps) {
  const rollout = props.data.rollout?.rollout;
  const title = rollout ? `${rollout.outcome === 'in progress' ? '▶ ' : ''}${rollout.release} — Elrond` : 'Elrond — release status';
  return (
    <PageShell title={title} simulated={props.simulated} signedIn={props.signedIn} liveUrl={props.liveUrl}>
      <StatusBody data={props.data} scope={props.scope} />
    </PageShell>
  );
}

/** A page that says what went wrong and where to go instead (unknown rollout, bad address). */
export function MessagePage({ title, message, simulated, signedIn }: { title: string; message: string; simulated: string | null; signedIn: boolean }) {
  return (
    <PageShell title={`${title} — Elrond`} simulated={simulated} signedIn={signedIn}>
      <section class="message">
        <h1>{title}</h1>
        <p>{message}</p>
        <p>
          <a href="/">Back to the status page</a>
        </p>
      </section>
    </PageShell>
  );
}
