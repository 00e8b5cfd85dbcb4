import { useId, type ReactNode } from 'react';

/** A fieldset of radio buttons, each with a label and a one-line description. */
export function RadioGroup<V extends string>({
  legend,
  value,
  onValue,
  options,
  isLegendHidden = false,
}: {
  legend: string;
  /** When a heading right above already says the same: keep the legend for screen readers only. */
  isLegendHidden?: boolean;
  value: V;
  onValue: (value: V) => void;
  options: { value: V; label: string; description?: string; children?: ReactNode }[];
}) {
  const name = useId();
  return (
    <fieldset className="radio-group">
      <legend className={isLegendHidden ? 'visually-hidden' : undefined}>{legend}</legend>
      {options.map((o) => (
        <div key={o.value} className={`radio-option ${value === o.value ? 'is-selected' : ''}`}>
          <label>
            <input
              type="radio"
              name={name}
              value={o.value}
              checked={value === o.value}
              onChange={() => onValue(o.value)}
            />
            <span>
              <span className="radio-label">{o.label}</span>
              {o.description && <span className="hint">{o.description}</span>}
            </span>
          </label>
          {value === o.value && o.children && <div className="radio-extra">{o.children}</div>}
        </div>
      ))}
    </fieldset>
  );
}
