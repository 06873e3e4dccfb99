// The seldon-jupyter JupyterLab plugin: the Seldon Eventing sidebar and its actions.
import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';

import { SeldonSidebar } from './sidebar';

const icon = new LabIcon({
  name: 'seldon-jupyter:icon',
  svgstr: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" ' +
    'fill="#616161"><circle cx="5" cy="12" r="3"/><circle cx="19" cy="5" r="3"/>' +
    '<circle cx="19" cy="19" r="3"/><path d="M7 11l9-5v2l-9 5zM7 13l9 5v-2l-9-5z"/></g></svg>'
});

const DASHBOARD = 'notebooks/dashboard.ipynb';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'seldon-jupyter:sidebar',
  description: 'Seldon Eventing sidebar: topology, live events, send cells.',
  autoStart: true,
  requires: [ILabShell, INotebookTracker],
  activate: (app: JupyterFrontEnd, shell: ILabShell, notebooks: INotebookTracker) => {
    const sidebar = new SeldonSidebar({
      insertCell: async (source: string) => {
        const panel = notebooks.currentWidget;
        if (!panel) {
          throw new Error('open a notebook to insert a %seldon_send cell');
        }
        await app.commands.execute('notebook:insert-cell-below');
        panel.content.activeCell?.model.sharedModel.setSource(source);
      },
      openDashboard: async () => {
        await app.commands.execute('docmanager:open', { path: DASHBOARD });
      }
    });
    sidebar.title.icon = icon;
    shell.add(sidebar, 'left', { rank: 900 });
    app.commands.addCommand('seldon-jupyter:refresh', {
      label: 'Refresh the Seldon Eventing sidebar',
      execute: () => sidebar.refresh()
    });
  }
};

export default plugin;
