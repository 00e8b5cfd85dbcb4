import type { MenuItemConstructorOptions } from 'electron';

export interface TrayLike {
  setToolTip(text: string): void;
  setContextMenu(menu: unknown): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
}

export interface TrayDeps {
  createTray(iconPath: string): TrayLike;
  buildMenu(template: MenuItemConstructorOptions[]): unknown;
}

export interface TrayActions {
  open(): void;
  syncNow(): void;
  quit(): void;
}

export function trayMenuTemplate(actions: TrayActions): MenuItemConstructorOptions[] {
  return [
    { label: 'Open CHT Sync', click: () => actions.open() },
    { label: 'Sync now', click: () => actions.syncNow() },
    { type: 'separator' },
    { label: 'Quit', click: () => actions.quit() },
  ];
}

/** Background mode: the tray keeps the app (and its scheduled syncs) alive after the window closes. */
export function setupTray(deps: TrayDeps, iconPath: string, actions: TrayActions): TrayLike {
  const tray = deps.createTray(iconPath);
  tray.setToolTip('CHT Sync Desktop — syncs on schedule while this icon is here');
  tray.setContextMenu(deps.buildMenu(trayMenuTemplate(actions)));
  tray.on('click', () => actions.open());
  return tray;
}
