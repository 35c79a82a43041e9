import { get } from '../api.ts';
import { visible } from '../safe.ts';
import type { SpendView } from '../types.ts';
import { ErrorNote, Loading, Page, useLoad } from '../ui.tsx';

const W = 640;
const H = 220;
const PAD = { l: 56, r: 12, t: 12, b: 36 };

/** Spend per day as bars, hand-made SVG (no chart library): a table below says the same in text. */
function Chart({ series, currency }: { series: SpendView['series']; currency: string }) {
  if (series.length === 0) return <p className="empty">No spending recorded yet.</p>;
  const max = Math.max(1, ...series.map((s) => s.total));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const bw = iw / series.length;
  const label = `Spend per day from ${series[0]!.day} to ${series[series.length - 1]!.day}, highest ${max} ${currency}`;
  const every = Math.max(1, Math.ceil(series.length / 8));
  return (
    <figure>
      <svg viewBox={`0 0 ${W} ${H}`} className="chart" role="img" aria-label={label}>
        <line x1={PAD.l} y1={PAD.t + ih} x2={W - PAD.r} y2={PAD.t + ih} className="axis" />
        <line x1={PAD.l} y1={PAD.t} x2={PAD.l} y2={PAD.t + ih} className="axis" />
        <text x={PAD.l - 6} y={PAD.t + 10} textAnchor="end" className="tick">
          {max}
        </text>
        <text x={PAD.l - 6} y={PAD.t + ih} textAnchor="end" className="tick">
          0
        </text>
        {series.map((s, i) => {
          const h = (s.total / max) * ih;
          return (
            <g key={s.day}>
              <rect x={PAD.l + i * bw + bw * 0.15} y={PAD.t + ih - h} width={bw * 0.7} height={h} className="bar">
                <title>{`${s.day}: ${s.total} ${currency}`}</title>
              </rect>
              {i % every === 0 ? (
                <text x={PAD.l + i * bw + bw / 2} y={H - 12} textAnchor="middle" className="tick">
                  {s.day.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <details>
          <summary>Spend per day as a table</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Total ({currency})</th>
              </tr>
            </thead>
            <tbody>
              {series.map((s) => (
                <tr key={s.day}>
                  <td>{s.day}</td>
                  <td>{s.total}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      </figcaption>
    </figure>
  );
}

export function Spend() {
  const s = useLoad(() => get<{ spend: SpendView }>('/api/spend'));
  const v = s.data?.spend;
  return (
    <Page title="Spend" intro="What the agent spent against each budget cap, and per day. Amounts are in minor units.">
      <ErrorNote error={s.error} />
      {!v ? (
        <Loading what="spending" />
      ) : (
        <>
          <section aria-labelledby="caps-h">
            <h2 id="caps-h">Budget caps</h2>
            {v.caps.length === 0 ? (
              <p className="empty">No budget caps are configured.</p>
            ) : (
              <ul className="caps">
                {v.caps.map((c) => {
                  const id = `cap-${c.id}`;
                  return (
                    <li key={c.id}>
                      <span id={id}>
                        {visible(c.scope)} · {visible(c.window)}: {c.spent} spent, {c.reserved} reserved of {c.limit}{' '}
                        {v.currency}
                      </span>
                      <meter
                        aria-labelledby={id}
                        min={0}
                        max={Math.max(c.limit, 1)}
                        value={Math.min(c.spent + c.reserved, Math.max(c.limit, 1))}
                        high={c.limit * 0.8}
                        optimum={0}
                      />
                    </li>
                  );
                })}
              </ul>
            )}
          </section>
          <section aria-labelledby="series-h">
            <h2 id="series-h">Spend over time</h2>
            <Chart series={v.series} currency={v.currency} />
          </section>
        </>
      )}
    </Page>
  );
}
