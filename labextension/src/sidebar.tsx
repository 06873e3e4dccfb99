// The "Seldon Eventing" left-sidebar panel, in React with JupyterLab's own UI components:
// the topology as a laid-out graph (graph.ts) with live state, failure reasons and
// delivery counts, the selected node's details and send cell, a live event feed with a
// filter, and the event inspector. Colours come from the theme's CSS variables only.
import { Notification } from '@jupyterlab/apputils';
import {
  launchIcon,
  ReactWidget,
  refreshIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import React, { useEffect, useMemo, useRef, useState } from 'react';

import { getTopology, IFeedItem, ITopology, openStream } from './api';
import { IGraph, IGraphNode, layout } from './graph';
import { Inspector } from './inspector';

export interface IActions {
  insertCell: (source: string) => Promise<void>;
  openDashboard: () => Promise<void>;
}

export interface ISidebarSettings {
  feedSize: number;
}

const NARROW = 420; // px: below this the feed drops its source and id columns

function notifyOnce(seen: Set<string>, message: string): void {
  if (!seen.has(message)) {
    seen.add(message);
    Notification.error(message, { autoClose: 8000 });
  }
}

function useWidth(ref: React.RefObject<HTMLDivElement>): number {
  const [width, setWidth] = useState(250);
  useEffect(() => {
    const node = ref.current;
    if (!node) {
      return;
    }
    const observer = new ResizeObserver(entries => {
      setWidth(Math.round(entries[0].contentRect.width));
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

function Graph(props: { graph: IGraph; selected: string; onSelect: (id: string) => void }) {
  const { graph } = props;
  if (!graph.nodes.length) {
    return <div className="sj-muted">nothing deployed in this namespace yet</div>;
  }
  return (
    <div className="sj-graph">
      <svg width={graph.width} height={graph.height} role="img" aria-label="topology">
        <defs>
          <marker id="sj-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="6"
            markerHeight="6" orient="auto-start-reverse">
            <path d="M0,0 L8,4 L0,8 z" className="sj-arrow" />
          </marker>
        </defs>
        {graph.edges.map(e => (
          <g key={e.id} className="sj-edge">
            <polyline points={e.points.map(p => `${p.x},${p.y}`).join(' ')}
              markerEnd="url(#sj-arrow)" />
            {e.label && e.points.length > 1 && (
              <text x={e.points[0].x + 4} y={e.points[0].y + 12} className="sj-edge-label">
                {clip(e.label, graph.width - e.points[0].x, 5.5)}
                <title>{e.label}</title>
              </text>
            )}
          </g>
        ))}
        {graph.nodes.map(n => (
          <GraphNode key={n.id} node={n} selected={n.id === props.selected}
            onSelect={props.onSelect} />
        ))}
      </svg>
    </div>
  );
}

function clip(text: string, width: number, size = 6.5): string {
  const room = Math.floor((width - 14) / size);
  return text.length > room ? `${text.slice(0, Math.max(room - 1, 1))}…` : text;
}

function GraphNode(props: { node: IGraphNode; selected: boolean; onSelect: (id: string) => void }) {
  const n = props.node;
  const title = [`${n.kind} ${n.name}: ${n.state}`, n.reason, n.detail].filter(Boolean)
    .join('\n');
  return (
    <g className={`sj-graph-node sj-tone-${n.tone}${props.selected ? ' sj-selected' : ''}`}
      data-kind={n.kind} data-name={n.name} transform={`translate(${n.x},${n.y})`}
      onClick={() => props.onSelect(n.id)} role="button" tabIndex={0}>
      <title>{title}</title>
      <rect width={n.width} height={n.height} rx="4" />
      <text x="7" y="15" className="sj-node-title">{clip(`${n.kind} ${n.name}`, n.width, 7)}</text>
      <text x="7" y="30" className="sj-state">{n.state || ' '}</text>
      <text x="7" y="44" className="sj-node-detail">
        {clip(n.reason || n.detail, n.width, 6)}
      </text>
    </g>
  );
}

function Details(props: { node: IGraphNode | undefined; actions: IActions }) {
  const n = props.node;
  if (!n) {
    return null;
  }
  const insert = async (source: string) => {
    try {
      await props.actions.insertCell(source);
    } catch (error) {
      Notification.error(String(error instanceof Error ? error.message : error));
    }
  };
  return (
    <div className={`sj-details sj-tone-${n.tone}`}>
      <div><b>{n.kind} {n.name}</b> <span className="sj-state">{n.state}</span></div>
      {n.reason && <div className="sj-reason">{n.reason}</div>}
      {n.detail && <div className="sj-muted sj-wrap">{n.detail}</div>}
      {n.trigger && (
        <button className="jp-Button jp-mod-styled jp-mod-accept sj-insert"
          onClick={() => void insert(n.trigger?.snippet ?? '')}>Insert send cell</button>
      )}
    </div>
  );
}

function Feed(props: { items: IFeedItem[]; narrow: boolean; onPick: (id: string) => void }) {
  const [needle, setNeedle] = useState('');
  const shown = props.items.filter(item => !needle ||
    `${item.type} ${item.source} ${item.id}`.toLowerCase().includes(needle.toLowerCase()));
  const columns = props.narrow ? ['time', 'type', 'ms'] : ['time', 'type', 'source', 'id', 'ms'];
  return (
    <>
      <input className="sj-filter jp-mod-styled" placeholder="filter events (type, source, id)"
        value={needle} onChange={e => setNeedle(e.target.value)} />
      <table className="sj-feed">
        <thead><tr>{columns.map(c => <th key={c}>{c}</th>)}</tr></thead>
        <tbody>
          {shown.slice().reverse().map(item => {
            const cells: Record<string, string> = {
              time: new Date(item.time * 1000).toLocaleTimeString(), type: item.type,
              source: item.source, id: item.id.slice(0, 8),
              ms: item.latency_ms === null ? '' : item.latency_ms.toFixed(1)
            };
            return (
              <tr key={`${item.table}/${item.seq}`} data-id={item.id}
                className={['sj-event', ...item.flags.map(f => `sj-flag-${f}`)].join(' ')}
                title={`${item.table} ${item.where} ${item.id}` +
                  (item.flags.length ? ` (${item.flags.join(', ')})` : '')}
                onClick={() => props.onPick(item.id)}>
                {columns.map(c => <td key={c}>{cells[c]}</td>)}
              </tr>
            );
          })}
        </tbody>
      </table>
      {!shown.length && <div className="sj-muted">
        {props.items.length ? 'no event matches the filter' : 'no events yet'}</div>}
    </>
  );
}

function SidebarView(props: {
  actions: IActions; settings: ISidebarSettings; inspector: Inspector;
  refreshes: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const inspectorBox = useRef<HTMLDivElement>(null);
  const width = useWidth(box);
  const seen = useMemo(() => new Set<string>(), []);
  const [topology, setTopology] = useState<ITopology | null>(null);
  const [graph, setGraph] = useState<IGraph>({ nodes: [], edges: [], width: 0, height: 0 });
  const [items, setItems] = useState<IFeedItem[]>([]);
  const [status, setStatus] = useState('connecting...');
  const [selected, setSelected] = useState('');

  useEffect(() => {
    inspectorBox.current?.append(props.inspector.node);
  }, [props.inspector]);

  useEffect(() => {
    getTopology().then(setTopology).catch(error => {
      setStatus(String(error));
      notifyOnce(seen, `Seldon Eventing: ${error}`);
    });
  }, [props.refreshes]);

  useEffect(() => {
    const stream = openStream(
      setTopology,
      feed => setItems(old => [...old, ...feed.items].slice(-props.settings.feedSize)),
      message => setStatus(message)
    );
    return () => stream.close();
  }, [props.settings.feedSize]);

  useEffect(() => {
    if (!topology) {
      return;
    }
    setStatus(`${topology.backend} backend, namespace ${topology.namespace}` +
      (topology.running ? '' : ' (not running)') +
      (topology.error ? ` - ${topology.error}` : '') +
      (topology.hint ? ` (${topology.hint})` : ''));
    if (topology.error) {
      notifyOnce(seen, `Seldon Eventing: ${topology.error}`);
    }
    let live = true;
    layout(topology, width).then(laid => live && setGraph(laid)).catch(error => {
      setStatus(`could not lay out the topology: ${error}`);
    });
    return () => {
      live = false;
    };
  }, [topology, width]);

  const chosen = graph.nodes.find(n => n.id === selected) ??
    graph.nodes.find(n => n.trigger) ?? graph.nodes[0];
  return (
    <div className="sj-sidebar-body" ref={box}>
      <div className="sj-header">
        <h3>Seldon Eventing</h3>
        <div className="sj-toolbar">
          <ToolbarButtonComponent icon={refreshIcon} tooltip="Refresh" label="Refresh"
            onClick={() => getTopology().then(setTopology).catch(e => setStatus(String(e)))} />
          <ToolbarButtonComponent icon={launchIcon} tooltip="Open the dashboard notebook"
            label="Dashboard" onClick={() => void props.actions.openDashboard()} />
        </div>
      </div>
      <div className="sj-status sj-muted">{status}</div>
      <Graph graph={graph} selected={chosen?.id ?? ''} onSelect={setSelected} />
      <Details node={chosen} actions={props.actions} />
      <h3>Events</h3>
      <Feed items={items} narrow={width < NARROW} onPick={id => void props.inspector.show(id)} />
      <div ref={inspectorBox} />
    </div>
  );
}

export class SeldonSidebar extends ReactWidget {
  private inspector = new Inspector();
  private refreshes = 0;
  settings: ISidebarSettings = { feedSize: 200 };

  constructor(private actions: IActions) {
    super();
    this.id = 'seldon-jupyter-sidebar';
    this.title.caption = 'Seldon Eventing';
    this.addClass('sj-sidebar');
  }

  /** Read the topology again (the palette's refresh command). */
  refresh(): void {
    this.refreshes += 1;
    this.update();
  }

  configure(settings: ISidebarSettings): void {
    this.settings = settings;
    this.update();
  }

  render(): JSX.Element {
    return <SidebarView actions={this.actions} settings={this.settings}
      inspector={this.inspector} refreshes={this.refreshes} />;
  }
}
