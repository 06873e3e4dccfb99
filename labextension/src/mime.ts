// A MIME renderer for seldon-jupyter result objects (application/vnd.seldon-jupyter+json).
// Every output also carries text/html and text/plain, so other front ends need none of this.
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

export const MIME_TYPE = 'application/vnd.seldon-jupyter+json';

type Row = Record<string, unknown>;

interface IResult {
  kind: string;
  rows?: Row[];
  sent?: number;
  failed?: number;
  type?: string;
  ids?: string[];
  summary?: string;
  warning?: string;
  title?: string;
  tones?: string[];
}

function cell(tag: 'td' | 'th', value: unknown): HTMLElement {
  const node = document.createElement(tag);
  node.textContent = value === null || value === undefined ? '' : String(value);
  return node;
}

function rowsTable(rows: Row[], tones: string[] = []): HTMLElement {
  const table = document.createElement('table');
  const columns = rows.length ? Object.keys(rows[0]) : [];
  const head = document.createElement('tr');
  head.append(...columns.map(c => cell('th', c)));
  table.append(head);
  rows.forEach((row, i) => {
    const line = document.createElement('tr');
    line.append(...columns.map(c => {
      const td = cell('td', row[c]);
      if (c === 'state' && tones[i]) {
        td.className = `sj-state sj-tone-${tones[i]}`;  // the HTML view's badge colours
      }
      return td;
    }));
    table.append(line);
  });
  return table;
}

export function renderResult(result: IResult): HTMLElement {
  const root = document.createElement('div');
  root.className = 'sj-result';
  if (result.kind === 'resources' && result.rows) {
    const title = document.createElement('b');
    title.textContent = result.title ?? '';
    root.append(title, rowsTable(result.rows, result.tones));
  } else if (result.kind === 'send') {
    // everything the HTML view shows: the summary (rate, responses collected), the
    // warning, and the responses table
    const summary = document.createElement('div');
    summary.textContent = result.summary ??
      `sent ${result.sent ?? 0} event(s) of type ${result.type ?? ''}` +
      (result.failed ? `, ${result.failed} failed` : '');
    root.append(summary);
    if (result.warning) {
      const warning = document.createElement('div');
      warning.className = 'sj-bad sj-warning';
      warning.textContent = `warning: ${result.warning}`;
      root.append(warning);
    }
    if (result.rows && result.rows.length) {
      root.append(rowsTable(result.rows));
    }
  } else {
    root.textContent = JSON.stringify(result);
  }
  return root;
}

class ResultWidget extends Widget implements IRenderMime.IRenderer {
  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.node.replaceChildren(renderResult(model.data[MIME_TYPE] as unknown as IResult));
  }
}

const extension: IRenderMime.IExtension = {
  id: 'seldon-jupyter:mime',
  rendererFactory: {
    safe: true,
    mimeTypes: [MIME_TYPE],
    createRenderer: () => new ResultWidget()
  },
  rank: 0,
  dataType: 'json'
};

export default extension;
