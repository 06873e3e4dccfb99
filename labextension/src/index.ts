// The seldon-jupyter JupyterLab plugin: the Seldon Eventing sidebar, its commands (in the
// palette and the launcher), its settings (backend, namespace, feed size) and its
// notifications.
import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';

import { control, where } from './api';
import { SeldonSidebar } from './sidebar';

const icon = new LabIcon({
  name: 'seldon-jupyter:icon',
  svgstr: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" ' +
    'fill="#616161"><circle cx="5" cy="12" r="3"/><circle cx="19" cy="5" r="3"/>' +
    '<circle cx="19" cy="19" r="3"/><path d="M7 11l9-5v2l-9 5zM7 13l9 5v-2l-9-5z"/></g></svg>'
});

const DASHBOARD = 'notebooks/dashboard.ipynb';
const PLUGIN = 'seldon-jupyter:sidebar';
const CATEGORY = 'Seldon Eventing';
const LOAD = '%load_ext seldon_jupyter';
const SAMPLE = '%%seldon_send --type <type>\n{"data": {"ndarray": [[5.1, 3.5, 1.4, 0.2]]}}';

export const COMMANDS = {
  open: 'seldon-jupyter:open-sidebar',
  dashboard: 'seldon-jupyter:open-dashboard',
  start: 'seldon-jupyter:start-local',
  stop: 'seldon-jupyter:stop-local',
  insert: 'seldon-jupyter:insert-send-cell',
  refresh: 'seldon-jupyter:refresh'
};

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN,
  description: 'Seldon Eventing sidebar: topology, live events, send cells.',
  autoStart: true,
  requires: [ILabShell, INotebookTracker],
  optional: [ICommandPalette, ILauncher, ISettingRegistry],
  activate: (app: JupyterFrontEnd, shell: ILabShell, notebooks: INotebookTracker,
    palette: ICommandPalette | null, launcher: ILauncher | null,
    registry: ISettingRegistry | null) => {
    // into the notebook the user is in, below the active cell; %load_ext first if the
    // notebook does not load the extension yet
    const insertCell = async (source: string): Promise<void> => {
      const panel = notebooks.currentWidget;
      if (!panel) {
        throw new Error('open a notebook first: the send cell goes into the current one');
      }
      const cells = panel.content.model?.sharedModel.cells ?? [];
      const loaded = cells.some(c => c.getSource().includes(LOAD));
      shell.activateById(panel.id);
      // a cell magic (%%seldon_send) must open its cell: %load_ext goes in one of its own
      for (const text of loaded ? [source] : [LOAD, source]) {
        await app.commands.execute('notebook:insert-cell-below');
        panel.content.activeCell?.model.sharedModel.setSource(text);
      }
    };
    const sidebar = new SeldonSidebar({
      insertCell,
      openDashboard: async () => {
        await app.commands.execute('docmanager:open', { path: DASHBOARD });
      }
    });
    sidebar.title.icon = icon;
    shell.add(sidebar, 'left', { rank: 900 });

    const local = async (action: 'start' | 'stop'): Promise<void> => {
      try {
        const answer = await control(action);
        if (answer.error) {
          Notification.error(`${answer.error}${answer.hint ? ` (${answer.hint})` : ''}`);
        } else if (action === 'start') {
          Notification.success(`local backend running: broker ${answer.broker_url}`,
            { autoClose: 5000 });
        } else {
          Notification.info(answer.stopped ? 'local backend stopped'
            : 'no local backend was running', { autoClose: 5000 });
        }
      } catch (error) {
        Notification.error(message(error));
      }
      sidebar.refresh();
    };

    app.commands.addCommand(COMMANDS.open, {
      label: 'Open the Seldon Eventing sidebar', caption: CATEGORY, icon,
      execute: () => shell.activateById(sidebar.id)
    });
    app.commands.addCommand(COMMANDS.dashboard, {
      label: 'Open the Seldon dashboard', caption: 'the widget dashboard notebook', icon,
      execute: () => app.commands.execute('docmanager:open', { path: DASHBOARD })
    });
    app.commands.addCommand(COMMANDS.start, {
      label: 'Start the local Seldon backend', execute: () => local('start')
    });
    app.commands.addCommand(COMMANDS.stop, {
      label: 'Stop the local Seldon backend', execute: () => local('stop')
    });
    app.commands.addCommand(COMMANDS.insert, {
      label: 'Insert a %%seldon_send cell', caption: 'into the current notebook',
      isEnabled: () => notebooks.currentWidget !== null,
      execute: async () => {
        try {
          await insertCell(SAMPLE);
        } catch (error) {
          Notification.error(message(error));
        }
      }
    });
    app.commands.addCommand(COMMANDS.refresh, {
      label: 'Refresh the Seldon Eventing sidebar', execute: () => sidebar.refresh()
    });
    for (const command of Object.values(COMMANDS)) {
      palette?.addItem({ command, category: CATEGORY });
    }
    launcher?.add({ command: COMMANDS.open, category: 'Other', rank: 1 });
    launcher?.add({ command: COMMANDS.dashboard, category: 'Other', rank: 2 });

    if (registry) {
      const apply = (settings: ISettingRegistry.ISettings): void => {
        where.backend = String(settings.get('backend').composite ?? '');
        where.namespace = String(settings.get('namespace').composite ?? '');
        sidebar.configure({ feedSize: Number(settings.get('feedSize').composite ?? 200) });
      };
      registry.load(PLUGIN).then(settings => {
        apply(settings);
        settings.changed.connect(apply);
      }).catch(error => Notification.error(`Seldon Eventing settings: ${message(error)}`));
    }
  }
};

export default plugin;
