// Calls to the seldon-jupyter server extension, behind Jupyter's own authentication.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export interface INode {
  kind: string;
  namespace: string;
  name: string;
  state: string;
  tone?: string;
  ready: boolean;
  reason: string;
  address: string | null;
}

export interface ITrigger extends INode {
  broker: string;
  filter: string;
  filter_attributes: Record<string, string>;
  subscriber: {
    kind: string | null; name: string | null; uri: string | null; state?: string; tone?: string;
  };
  snippet: string;
  replies: ITrigger[];
  reply_type?: string;
  counts?: Record<string, number>;
  problem?: string;
}

export interface IBroker extends INode {
  triggers: ITrigger[];
}

export interface ITopology {
  backend: string;
  namespace: string;
  running: boolean;
  brokers: IBroker[];
  deployments: INode[];
  others: INode[];
  orphans?: ITrigger[];
  error?: string;
  hint?: string | null;
}

export interface IFeedItem {
  table: string;
  seq: number;
  id: string;
  type: string;
  source: string;
  where: string;
  time: number;
  latency_ms: number | null;
  flags: string[];
}

export interface IAttempt {
  trigger: string;
  target: string;
  number: number;
  url: string;
  at: number;
  duration_ms: number;
  waited_s: number;
  code: number | null;
  error: string | null;
  answer: string;
}

export interface IRoute {
  trigger: string;
  subscriber: string;
  taken: boolean;
  why: string;
  state: string | null;
  attempts: IAttempt[];
}

export interface ITrace {
  seq: number;
  id: string;
  type: string;
  source: string;
  broker: string;
  arrived_at: number;
  attributes: Record<string, string>;
  data: string;
  status: string;
  reason: string | null;
  routes: IRoute[];
  collected: string[];
  replies: ITrace[];
}

export interface ITraceAnswer {
  trace?: ITrace;
  error?: string;
  hint?: string | null;
}

export interface IFeed {
  items: IFeedItem[];
  after_event: number;
  after_response: number;
}

const settings = ServerConnection.makeSettings();

// The sidebar's settings (schema/sidebar.json): which backend and namespace to show.
export const where = { backend: '', namespace: '' };

function url(path: string, query: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...where, ...query })) {
    if (value) {
      params.set(key, value);
    }
  }
  const text = params.toString();
  return URLExt.join(settings.baseUrl, 'seldon-jupyter', 'api', path) + (text ? `?${text}` : '');
}

function reason(response: Response): string {
  return `${response.status} ${response.statusText}`;
}

export async function getTopology(): Promise<ITopology> {
  const response = await ServerConnection.makeRequest(url('topology'), {}, settings);
  if (!response.ok) {
    throw new Error(`topology: ${reason(response)}`);
  }
  return (await response.json()) as ITopology;
}

export function openStream(
  onTopology: (topology: ITopology) => void,
  onEvents: (feed: IFeed) => void,
  onError: (message: string) => void
): EventSource {
  const source = new EventSource(url('stream', settings.token ? { token: settings.token } : {}));
  source.addEventListener('topology', message => {
    onTopology(JSON.parse((message as MessageEvent).data) as ITopology);
  });
  source.addEventListener('events', message => {
    onEvents(JSON.parse((message as MessageEvent).data) as IFeed);
  });
  source.onerror = () => onError('event stream interrupted; reconnecting');
  return source;
}

export async function getTrace(id: string): Promise<ITraceAnswer> {
  const response = await ServerConnection.makeRequest(
    url('trace', { id }), {}, settings);
  if (!response.ok) {
    throw new Error(`trace: ${reason(response)}`);
  }
  return (await response.json()) as ITraceAnswer;
}

export async function replay(id: string): Promise<{ sent?: number; ids?: string[]; error?: string }> {
  const response = await ServerConnection.makeRequest(
    url('replay'), { method: 'POST', body: JSON.stringify({ id }) }, settings);
  if (!response.ok) {
    throw new Error(`replay: ${reason(response)}`);
  }
  return (await response.json()) as { sent?: number; ids?: string[]; error?: string };
}

export interface IControlAnswer {
  started?: boolean;
  stopped?: boolean;
  broker_url?: string;
  error?: string;
  hint?: string | null;
}

export async function control(action: 'start' | 'stop'): Promise<IControlAnswer> {
  const response = await ServerConnection.makeRequest(
    url('backend'), { method: 'POST', body: JSON.stringify({ action }) }, settings);
  if (!response.ok) {
    throw new Error(`backend ${action}: ${reason(response)}`);
  }
  return (await response.json()) as IControlAnswer;
}
