// A Briefcase code tool (QuickJS) wrapping the demo weather API (`briefcase init --demo`).
// The only way out is host.http, to the hosts in the manifest's access.network; the key is
// named ({{secret:WEATHER_KEY}}, a key of access.secrets) and injected by the daemon.
// The API's address: the first grant of the manifest (127.0.0.1:38089, the demo default).
const API = 'http://127.0.0.1:38089';

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- called by the Briefcase
async function main(args, host) {
  host.progress(0, 1, 'asking the weather API');
  const res = await host.http({
    url: `${API}/v1/forecast?city=${encodeURIComponent(args.city)}`,
    headers: { Authorization: 'Bearer {{secret:WEATHER_KEY}}' },
  });
  if (res.status !== 200) throw new Error(`the weather API answered ${res.status}: ${res.body.slice(0, 200)}`);
  const w = JSON.parse(res.body);
  const last = await host.kv.get('last_city');
  await host.kv.set('last_city', args.city);
  host.progress(1, 1, 'done');
  return { city: w.city, forecast: w.forecast, temp_c: w.temp_c, previous_city: last };
}
