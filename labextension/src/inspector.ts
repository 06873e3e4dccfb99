// The event inspector under the sidebar's feed: one event's attributes and data, every
// Trigger's verdict, each delivery attempt, the replies it caused, and a Replay button.
import { getTrace, IRoute, ITrace, replay } from './api';
import { el } from './dom';

function route(r: IRoute): HTMLElement {
  const item = el('li', '', 'sj-route');
  item.dataset.trigger = r.trigger;
  item.append(el('b', r.trigger));
  if (!r.taken) {
    item.append(el('span', ` not taken: ${r.why}`, 'sj-muted'));
    return item;
  }
  const bad = r.state === 'failed' || r.state === 'dead-lettered';
  item.append(el('span', ` -> ${r.subscriber}: ${r.state ?? ''}`, bad ? 'sj-bad' : 'sj-ok'));
  for (const a of r.attempts) {
    const ok = a.code !== null && a.code >= 200 && a.code < 300;
    const wait = a.waited_s ? ` after ${a.waited_s}s` : '';
    const line = el('div', `${a.target} #${a.number}${wait}: ${a.code ?? 'no answer'} ` +
      `in ${a.duration_ms.toFixed(1)} ms`, `sj-attempt ${ok ? 'sj-ok' : 'sj-bad'}`);
    line.title = a.error ?? a.answer;
    item.append(line);
  }
  return item;
}

function traceTree(t: ITrace, depth: number): HTMLElement {
  const box = el('div', '', 'sj-trace-node');
  box.style.marginLeft = `${depth}em`;
  box.append(el('div', `${depth ? '↳ reply ' : ''}${t.type}`, 'sj-trace-type'));
  box.append(el('div', `${t.id} from ${t.source}`, 'sj-muted'));
  const routes = el('ul');
  routes.append(...t.routes.map(route));
  if (!t.routes.length) {
    routes.append(el('li', 'no Trigger on this broker: dropped', 'sj-bad'));
  }
  for (const sink of t.collected) {
    routes.append(el('li', `collected by ${sink}`, 'sj-ok'));
  }
  box.append(routes);
  for (const reply of t.replies) {
    box.append(traceTree(reply, depth + 1));
  }
  return box;
}

export class Inspector {
  readonly node = el('div', '', 'sj-inspector');

  async show(id: string): Promise<void> {
    this.node.replaceChildren(el('div', `loading ${id}...`, 'sj-muted'));
    const answer = await getTrace(id);
    if (!answer.trace) {
      this.node.replaceChildren(el('div', answer.error ?? 'no trace', 'sj-bad'),
        el('div', answer.hint ?? '', 'sj-muted'));
      return;
    }
    const t = answer.trace;
    const close = el('button', 'Close', 'jp-Button jp-mod-styled');
    close.onclick = () => this.node.replaceChildren();
    const again = el('button', 'Replay', 'jp-Button jp-mod-styled jp-mod-accept');
    const result = el('span', '', 'sj-muted');
    again.onclick = async () => {
      again.disabled = true;
      const sent = await replay(t.id);
      result.textContent = sent.error ?? `replayed as ${sent.ids?.[0] ?? '?'}`;
      again.disabled = false;
    };
    const attrs = el('table', '', 'sj-attrs');
    for (const [key, value] of Object.entries(t.attributes)) {
      const row = el('tr');
      row.append(el('th', key), el('td', value));
      attrs.append(row);
    }
    this.node.replaceChildren(el('h3', 'Event'), el('div', '', 'sj-toolbar'), attrs,
      el('pre', t.data, 'sj-data'), el('h4', 'Trace'), traceTree(t, 0));
    this.node.children[1].append(again, close, result);
  }
}
