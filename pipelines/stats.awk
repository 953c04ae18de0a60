# Copyright (C) 2026 pixelmeet developers
# SPDX-License-Identifier: MPL-2.0
# Turns `gst-launch-1.0 -m` output of a pixelmeet pipeline into one line per stats message:
#   tx: what the local encoder sends (kbit/s, against raw, fps, changed blocks), and the target
#       pixeldiffadapt set: why (the signal that sets it and its state), the delay-based
#       estimate and the queueing delay the receivers' transport-wide feedback shows
#   rxK: what arrives from remote slot K (kbit/s, packets lost and %, fps shown)
# Errors and warnings pass through, with a plain-language hint for the common ones.
# Variables: raw (raw kbit/s of the local picture), verbose (1: print everything).

function field(name, type,    re, v) {
  re = name "=\\(" type "\\)[-0-9.e+]+"
  if (!match($0, re)) return 0
  v = substr($0, RSTART, RLENGTH)
  sub(/^[^)]*\)/, "", v)
  return v + 0
}
function text(name,    v) {
  if (!match($0, name "=\\(string\\)[^,;]*")) return ""
  v = substr($0, RSTART, RLENGTH)
  sub(/^[^)]*\)/, "", v); gsub(/["\\]/, "", v)
  return v
}
function source() {
  if (!match($0, /from element "[^"]+"/)) return ""
  return substr($0, RSTART + 14, RLENGTH - 15)
}
function now() { return field("timestamp", "guint64") / 1e9 }

verbose == 1 { print; fflush() }

/pixeldiffenc-stats/ {
  t = now(); f = field("frames", "guint64"); k = field("kbps", "double")
  fps = (t > tx_t) ? (f - tx_f) / (t - tx_t) : 0
  if (tx_t == "") fps = f / (t + 1 / 30)
  printf "%7.1fs tx: sent %7.1f kbit/s (raw %d, %5.0fx smaller)  %4.1f fps  changed %4.1f%%  target %s kbit/s%s\n",
    t, k, raw, (k > 0 ? raw / k : 0), fps, field("changed-blocks-percent", "double"),
    (target == "" ? "-" : target),
    (target == "" ? "" : sprintf(" (%s; estimate %s kbit/s, queue %.0f ms)", reason, (estimate > 0 ? estimate : "-"), queue))
  fflush(); tx_t = t; tx_f = f
}
/pixeldiffadapt-stats/ {
  target = field("target-kbps", "uint"); estimate = field("estimate-kbps", "uint")
  queue = field("queue-delay-ms", "double"); reason = text("reason")
}
/pixeldiffdec-stats/ {
  s = source(); sub(/^rx/, "", s)
  t = now(); f = field("frames", "guint64")
  shown_fps[s] = (t > dec_t[s]) ? (f - dec_f[s]) / (t - dec_t[s]) : 0
  dec_t[s] = t; dec_f[s] = f
}
/rtppixeldiffdepay-stats/ {
  s = source(); sub(/^rx/, "", s)
  lost = field("packets-lost", "guint64"); got = field("packets", "guint64")
  printf "%7.1fs rx%s: recv %7.1f kbit/s  lost %d of %d packets (%.1f%% last second)  %4.1f fps shown\n",
    now(), s, field("kbps", "double"), lost, lost + got, field("loss-percent", "double"),
    shown_fps[s] + 0
  fflush()
}
/element "rx[0-9]+".*level/ {
  s = source(); sub(/^rx/, "", s)
  if (match($0, /rms=\([A-Za-z]+\)[{<] *-?[0-9.e+]+/)) {
    v = substr($0, RSTART, RLENGTH); sub(/^[^{<]*[{<] */, "", v)
    printf "%7.1fs rx%s: audio %6.1f dB RMS\n", field("running-time", "guint64") / 1e9, s, v + 0
    fflush()
  }
}
# A peer's key announcement made with another meeting key (see the README's Security section).
/pixelmeet-key, verdict=\(string\)refused, reason=\(string\)forged/ && !auth_said {
  print "pixelmeet: key announcements fail authentication: the other side uses a different key file; nothing is shown" > "/dev/stderr"
  fflush("/dev/stderr"); auth_said = 1
}
/pixelmeet-key, verdict=\(string\)refused, reason=\(string\)stale/ && !stale_said {
  print "pixelmeet: a key announcement is older than the key window: a replay, or this clock and the sender's disagree" > "/dev/stderr"
  fflush("/dev/stderr"); stale_said = 1
}
# End-to-end encrypted media (through a media server) that another meeting key sealed.
/pixelmeet-e2e, verdict=\(string\)refused, reason=\(string\)forged/ && !e2e_said {
  print "pixelmeet: the media does not decrypt: the other side uses a different key file; nothing is shown" > "/dev/stderr"
  fflush("/dev/stderr"); e2e_said = 1
}
/pixelmeet-e2e, verdict=\(string\)refused, reason=\(string\)stale/ && !e2e_stale_said {
  print "pixelmeet: end-to-end keys older than the key window: a replay, or this clock and the sender's disagree" > "/dev/stderr"
  fflush("/dev/stderr"); e2e_stale_said = 1
}
# The media server: each subscription, and why one waits (the other participant not there yet).
/pixelmeet-server, state=\(string\)(published|subscribed|left)/ {
  s = source(); m = $0; sub(/.*state=\(string\)/, "", m); sub(/[,;].*/, "", m)
  printf "pixelmeet: %s %s\n", s, m > "/dev/stderr"; fflush("/dev/stderr")
}
/pixelmeet-server, state=\(string\)waiting/ {
  s = source(); m = $0; sub(/.*reason=\(string\)/, "", m); sub(/;$/, "", m); gsub(/\\/, "", m)
  printf "pixelmeet: %s waits: %s\n", s, m > "/dev/stderr"; fflush("/dev/stderr")
}
verbose != 1 && /^(ERROR|WARNING)/ {
  print > "/dev/stderr"
  if (/Could not get\/set settings|bind/) print "pixelmeet: a UDP port is busy or not allowed; choose another --listen/--port" > "/dev/stderr"
  if (/no element/) print "pixelmeet: a GStreamer element is missing; run scripts/setup.sh" > "/dev/stderr"
}
verbose != 1 && /^Additional debug info|^(Error|Warning) / { print > "/dev/stderr" }
