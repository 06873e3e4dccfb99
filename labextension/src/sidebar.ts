// The "Seldon Eventing" left-sidebar panel: topology with live state, a live event feed
// with a filter box, and actions (insert a %seldon_send cell, open the dashboard, refresh).
import { Widget } from '@lumino/widgets';

import { getTopology, IFeedItem, INode, ITopology, ITrigger, openStream } from './api';
import { el } from './dom';
import { Inspector } from './inspector';

const FEED_ROWS = 200;

export interface IActions {
  insertCell: (source: string) => Promise<void>;
  openDashboard: () => Promise<void>;
}


function stateBadge(state: string, ready: boolean): HTMLElement {
  const failed = state === 'Failed' || state === 'NotReady';
  return el('span', state, `sj-state ${ready ? 'sj-ok' : failed ? 'sj-bad' : 'sj-muted'}`);
}

export class SeldonSidebar extends Widget {
  private topologyNode = el('div');
  private feedBody = el('tbody');
  private status = el('div', '', 'sj-muted');
  private filter = el('input');
  private items: IFeedItem[] = [];
  private stream: EventSource | null = null;
  private inspector = new Inspector();

  constructor(private actions: IActions) {
    super();
    this.id = 'seldon-jupyter-sidebar';
    this.title.caption = 'Seldon Eventing';
    this.addClass('sj-sidebar');
    const toolbar = el('div', '', 'sj-toolbar');
    const refresh = el('button', 'Refresh');
    refresh.onclick = () => void this.refresh();
    const dashboard = el('button', 'Open dashboard');
    dashboard.onclick = () => void this.actions.openDashboard();
    toolbar.append(refresh, dashboard);
    this.filter.placeholder = 'filter events (type, source, id)';
    this.filter.className = 'sj-filter';
    this.filter.oninput = () => this.renderFeed();
    const table = el('table', '', 'sj-feed');
    const head = el('tr');
    for (const name of ['time', 'type', 'source', 'id', 'latency']) {
      head.append(el('th', name));
    }
    table.append(el('thead'), this.feedBody);
    table.tHead?.append(head);
    this.node.append(el('h3', 'Seldon Eventing'), toolbar, this.status, this.topologyNode,
      el('h3', 'Events'), this.filter, table, this.inspector.node);
  }

  protected onAfterAttach(): void {
    void this.refresh();
    this.stream = openStream(
      topology => this.renderTopology(topology),
      feed => {
        this.items = [...this.items, ...feed.items].slice(-FEED_ROWS);
        this.renderFeed();
      },
      message => (this.status.textContent = message)
    );
  }

  protected onBeforeDetach(): void {
    this.stream?.close();
    this.stream = null;
  }

  async refresh(): Promise<void> {
    try {
      this.renderTopology(await getTopology());
    } catch (error) {
      this.status.textContent = String(error);
    }
  }

  private renderTopology(topology: ITopology): void {
    this.status.textContent = `${topology.backend} backend, namespace ${topology.namespace}` +
      (topology.error ? ` - ${topology.error}` : '') + (topology.hint ? ` (${topology.hint})` : '');
    this.topologyNode.replaceChildren();
    if (!topology.running) {
      this.topologyNode.append(el('div', 'not running', 'sj-muted'));
    }
    for (const broker of topology.brokers) {
      const node = el('div', `Broker ${broker.name}`, 'sj-node');
      node.append(stateBadge(broker.state, broker.ready));
      for (const trigger of broker.triggers) {
        node.append(this.renderTrigger(trigger));
      }
      this.topologyNode.append(node);
    }
    const routed = new Set(topology.brokers.flatMap(b => b.triggers)
      .map(t => t.subscriber.name));
    for (const sdep of topology.deployments.filter(d => !routed.has(d.name))) {
      this.topologyNode.append(this.renderNode(sdep));
    }
  }

  private renderNode(node: INode): HTMLElement {
    const line = el('div', `${node.kind} ${node.name}`, 'sj-node');
    line.dataset.kind = node.kind;
    line.dataset.name = node.name;
    line.append(stateBadge(node.state, node.ready));
    if (node.reason && !node.ready) {
      line.title = node.reason;
    }
    return line;
  }

  private renderTrigger(trigger: ITrigger): HTMLElement {
    const line = this.renderNode(trigger);
    line.append(el('span', ` [${trigger.filter}]`, 'sj-muted'));
    const counts = Object.entries(trigger.counts ?? {});
    if (counts.length) {
      line.append(el('span', ` (${counts.map(([state, n]) => `${n} ${state}`).join(', ')})`,
        'sj-counts'));
    }
    const send = el('button', 'Insert send cell');
    send.onclick = () => void this.actions.insertCell(trigger.snippet);
    line.append(send);
    const sub = trigger.subscriber;
    const target = el('div', `-> ${sub.kind ?? 'uri'} ${sub.name ?? sub.uri ?? ''}`, 'sj-node');
    if (sub.kind === 'SeldonDeployment') {
      target.dataset.kind = 'SeldonDeployment';
      target.dataset.name = sub.name ?? '';
      target.append(stateBadge(sub.state ?? 'Unknown', sub.state === 'Available'));
    }
    for (const reply of trigger.replies) {
      target.append(this.renderTrigger(reply));
    }
    line.append(target);
    return line;
  }

  private renderFeed(): void {
    const needle = this.filter.value.trim().toLowerCase();
    const shown = this.items.filter(item => !needle ||
      `${item.type} ${item.source} ${item.id}`.toLowerCase().includes(needle));
    this.feedBody.replaceChildren(...shown.slice().reverse().map(item => {
      const row = el('tr');
      row.className = 'sj-event';
      const latency = item.latency_ms === null ? '' : `${item.latency_ms.toFixed(1)} ms`;
      for (const text of [new Date(item.time * 1000).toLocaleTimeString(), item.type,
        item.source, item.id.slice(0, 8), latency]) {
        row.append(el('td', text));
      }
      row.title = `${item.table} ${item.where} ${item.id}` +
        (item.flags.length ? ` (${item.flags.join(', ')})` : '');
      for (const flag of item.flags) {
        row.classList.add(`sj-flag-${flag}`);
      }
      row.dataset.id = item.id;
      row.onclick = () => void this.inspector.show(item.id);
      return row;
    }));
  }
}
