// The topology as a graph: broker -> triggers -> subscribers -> reply triggers -> sinks,
// laid out by ELK's layered algorithm (elkjs). The model is the server's one topology
// (seldon_jupyter.topology.build, the same the dashboard draws), with its tones.
import ELK from 'elkjs/lib/elk.bundled.js';

import { INode, ITopology, ITrigger } from './api';

export const NODE_HEIGHT = 50;

export interface IGraphNode {
  id: string;
  kind: string;
  name: string;
  state: string;
  tone: string;
  reason: string;
  detail: string; // a filter, an address, counts: the line under the state
  trigger?: ITrigger;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface IGraphEdge {
  id: string;
  label: string;
  points: { x: number; y: number }[];
}

export interface IGraph {
  nodes: IGraphNode[];
  edges: IGraphEdge[];
  width: number;
  height: number;
}

type Pending = Omit<IGraphNode, 'x' | 'y' | 'width' | 'height'>;

function counts(trigger: ITrigger): string {
  const entries = Object.entries(trigger.counts ?? {});
  return entries.length ? entries.map(([state, n]) => `${n} ${state}`).join(', ') : '';
}

// the server's tone (seldon_jupyter.states.tone, the one rule); 'none' where it gives none
function toneOf(node: { tone?: string }): string {
  return node.tone ?? 'none';
}

export function collect(topology: ITopology): { nodes: Pending[]; edges: [string, string, string][] } {
  const nodes = new Map<string, Pending>();
  const edges: [string, string, string][] = [];
  const add = (node: Pending): string => {
    if (!nodes.has(node.id)) {
      nodes.set(node.id, node);
    }
    return node.id;
  };
  const plain = (n: INode, detail = ''): Pending => ({
    id: `${n.kind}/${n.namespace}/${n.name}`, kind: n.kind, name: n.name, state: n.state,
    tone: toneOf(n), reason: n.ready ? '' : n.reason, detail
  });
  const trigger = (t: ITrigger, from: string, label: string): void => {
    const id = add({ ...plain(t, [t.filter, counts(t)].filter(Boolean).join(' · ')), trigger: t });
    edges.push([from, id, label]);
    const sub = t.subscriber;
    const target = sub.kind ? `${sub.kind}/${t.namespace}/${sub.name}` : `uri/${sub.uri}`;
    add({
      id: target, kind: sub.kind ?? 'URI', name: sub.name ?? sub.uri ?? '?',
      state: sub.state ?? (sub.kind === 'SeldonDeployment' ? 'Unknown' : ''),
      tone: sub.tone ?? (sub.kind === 'SeldonDeployment' ? 'warn' : 'none'), reason: '',
      detail: ''
    });
    edges.push([id, target, '']);
    for (const reply of t.replies) {
      trigger(reply, target, t.reply_type ?? 'reply');
    }
  };
  for (const broker of topology.brokers) {
    const id = add(plain(broker, broker.address ?? ''));
    for (const t of broker.triggers) {
      trigger(t, id, '');
    }
  }
  for (const orphan of topology.orphans ?? []) {
    add({ ...plain(orphan, orphan.problem ?? ''), tone: 'error', trigger: orphan,
      reason: orphan.problem ?? orphan.reason });
  }
  for (const sdep of topology.deployments) {
    const known = nodes.get(`${sdep.kind}/${sdep.namespace}/${sdep.name}`);
    if (known) {
      known.state = sdep.state;
      known.tone = toneOf(sdep);
      known.reason = sdep.ready ? '' : sdep.reason;
      known.detail = sdep.address ?? '';
    } else {
      add(plain(sdep, sdep.address ?? ''));
    }
  }
  return { nodes: [...nodes.values()], edges };
}

const elk = new ELK();

export async function layout(topology: ITopology, width: number): Promise<IGraph> {
  const { nodes, edges } = collect(topology);
  const nodeWidth = Math.max(150, Math.min(240, width - 16));
  const laid = await elk.layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.spacing.nodeNode': '14',
      'elk.layered.spacing.nodeNodeBetweenLayers': '22',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.padding': '[top=4,left=4,bottom=4,right=4]'
    },
    children: nodes.map(n => ({ id: n.id, width: nodeWidth, height: NODE_HEIGHT })),
    edges: edges.map(([from, to], i) => ({ id: `e${i}`, sources: [from], targets: [to] }))
  });
  const placed = new Map((laid.children ?? []).map(c => [c.id, c]));
  return {
    nodes: nodes.map(n => {
      const at = placed.get(n.id);
      return { ...n, x: at?.x ?? 0, y: at?.y ?? 0, width: nodeWidth, height: NODE_HEIGHT };
    }),
    edges: (laid.edges ?? []).map((e, i) => {
      const section = e.sections?.[0];
      const points = section
        ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint]
        : [];
      return { id: e.id, label: edges[i][2], points };
    }),
    width: laid.width ?? 0,
    height: laid.height ?? 0
  };
}
