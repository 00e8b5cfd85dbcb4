import { useEffect, useState } from 'react';
import type { MethodArgs } from '../../app/contract';
import type { ScopePlaceList } from '../../app/contract/dto';
import { useClient } from '../client-context';
import { explainError, type ErrorHelp } from '../error-help';
import { useT } from '../i18n/use-t';
import { ErrorNotice } from './error-notice';

/**
 * "Which data to copy": everything, or only the subtrees of some places (districts), picked from
 * the server's places by hierarchy level. Databases that cannot be limited are named.
 */
export function PlaceChooser({
  target,
  databases,
  value,
  onChange,
  idPrefix = 'scope',
}: {
  /** The connection to ask (the wizard's, not saved yet); empty = the saved one. */
  target: MethodArgs<'setup.listPlaces'>;
  databases: string[];
  value: string[];
  onChange: (ids: string[]) => void;
  idPrefix?: string;
}) {
  const placeOfChooser = idPrefix === 'scope' ? 'wizard' : 'settings';
  const client = useClient();
  const { t } = useT();
  const [isLimited, setIsLimited] = useState(value.length > 0);
  const [list, setList] = useState<ScopePlaceList | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ErrorHelp | null>(null);
  const [filter, setFilter] = useState('');
  const key = JSON.stringify({ target, databases });

  useEffect(() => {
    if (!isLimited) return;
    let isCurrent = true;
    setLoading(true);
    setError(null);
    const asked = JSON.parse(key) as { target: MethodArgs<'setup.listPlaces'>; databases: string[] };
    client
      .invoke('setup.listPlaces', { ...asked.target, databases: asked.databases })
      .then(
        (l) => isCurrent && setList(l),
        (e: unknown) => isCurrent && setError(explainError(e, t, { place: placeOfChooser })),
      )
      .finally(() => isCurrent && setLoading(false));
    return () => {
      isCurrent = false;
    };
  }, [isLimited, key, client, t]);

  const names = new Map((list?.places ?? []).map((p) => [p.id, p.name]));
  const levels = [...new Set((list?.places ?? []).map((p) => p.level))].sort((a, b) => a - b);
  const needle = filter.trim().toLowerCase();
  const shown = (list?.places ?? []).filter(
    (p) => !needle || p.name.toLowerCase().includes(needle) || p.id.includes(needle),
  );
  const toggle = (id: string, on: boolean) =>
    onChange(on ? [...new Set([...value, id])] : value.filter((x) => x !== id));

  return (
    <fieldset className="card place-chooser">
      <legend>{t('scope.legend')}</legend>
      <div className="field">
        <input
          type="radio"
          id={`${idPrefix}-all`}
          name={`${idPrefix}-mode`}
          checked={!isLimited}
          onChange={() => {
            setIsLimited(false);
            onChange([]);
          }}
        />{' '}
        <label htmlFor={`${idPrefix}-all`}>{t('scope.all')}</label>
      </div>
      <div className="field">
        <input
          type="radio"
          id={`${idPrefix}-some`}
          name={`${idPrefix}-mode`}
          checked={isLimited}
          onChange={() => setIsLimited(true)}
        />{' '}
        <label htmlFor={`${idPrefix}-some`}>{t('scope.some')}</label>
        <p className="hint">{t('scope.some.hint')}</p>
      </div>
      {isLimited && (
        <div aria-live="polite">
          {loading && <p role="status">{t('scope.loading')}</p>}
          {error && <ErrorNotice help={error} />}
          {list && list.unscopeable.length > 0 && (
            <p className="hint tone-text-warn">{t('scope.unscopeable', { dbs: list.unscopeable.join(', ') })}</p>
          )}
          {list && list.places.length === 0 && <p>{t('scope.none')}</p>}
          {list && list.places.length > 12 && (
            <div className="field">
              <label htmlFor={`${idPrefix}-filter`}>{t('scope.filter')}</label>
              <input
                id={`${idPrefix}-filter`}
                type="search"
                value={filter}
                onChange={(e) => setFilter(e.target.value)}
              />
            </div>
          )}
          {levels.map((level) => {
            const places = shown.filter((p) => p.level === level);
            if (places.length === 0) return null;
            return (
              <fieldset key={level} className="scope-level">
                <legend>
                  {t('scope.level', { level, types: [...new Set(places.map((p) => p.type))].join(', ') })}
                </legend>
                <ul className="plain-list">
                  {places.map((p) => (
                    <li key={p.id}>
                      <input
                        type="checkbox"
                        id={`${idPrefix}-${p.id}`}
                        checked={value.includes(p.id)}
                        onChange={(e) => toggle(p.id, e.target.checked)}
                      />{' '}
                      <label htmlFor={`${idPrefix}-${p.id}`}>
                        {p.name}
                        {p.parentId && names.has(p.parentId) && (
                          <span className="muted"> · {t('scope.in', { parent: names.get(p.parentId) ?? '' })}</span>
                        )}
                      </label>
                    </li>
                  ))}
                </ul>
              </fieldset>
            );
          })}
          {list && value.length === 0 && list.places.length > 0 && <p className="hint">{t('scope.pickOne')}</p>}
        </div>
      )}
    </fieldset>
  );
}
