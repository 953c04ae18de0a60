# Copyright (C) 2026 pixelmeet developers
# SPDX-License-Identifier: MPL-2.0
# Shared by the pixelmeet launchers (sourced, not run): options, checks, and the gst-launch-1.0
# pipeline fragments of a participant. See `pipelines/send --help` for the options.
#
# Ports. A participant listens on a base port L: for each remote participant slot k it receives
# video RTP on L+10k, video RTCP on L+10k+1, audio RTP on L+10k+2, audio RTCP on L+10k+3, and as
# a sender (slot s) it takes the receivers' reports on L+10s+4 (video) and L+10s+5 (audio).
# Point to point (send/receive/call), everyone is slot 0. Through a relay, slot k sends to the
# relay's port R+10k and the relay forwards to every other participant's L+10k. Through a
# media server (--server), slot k publishes as participant-k and each participant subscribes
# to every other slot, received on L+10k as above; the server chooses its own ports.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
prog=$(basename "$0")

die() { echo "$prog: $*" >&2; exit 2; }

# Defaults, overridden by flags (parse_options) or the environment.
host=${PIXELMEET_HOST:-127.0.0.1}
port=${PIXELMEET_PORT:-5000}
listen=${PIXELMEET_LISTEN:-}
size=${PIXELMEET_SIZE:-640x480}
fps=${PIXELMEET_FPS:-30}
# Empty: pixeldiffenc's own default (one place for it).
quality=${PIXELMEET_QUALITY:-}
lossless=false
bitrate=${PIXELMEET_BITRATE:-2000}
latency=${PIXELMEET_LATENCY:-50}
key_file=${PIXELMEET_KEY_FILE:-}
make_key=""
audio=1
seconds=0
headless=0
share_camera=""
camera_shm=""
video_file=""
rtx=0
pattern=ball
slot=0
participants=2
multicast=""
ttl=1
iface=${PIXELMEET_IFACE:-}
relay=""
server=${PIXELMEET_SERVER:-}
room=${PIXELMEET_ROOM:-pixelmeet}
verbose=0
netsim=""
owner_only=0
owner_photo=""
no_face=pass
background=${PIXELMEET_BACKGROUND:-color}

common_usage() {
  cat <<USAGE
Video:
  --size WxH          picture size (default 640x480)     --fps N        frame rate (default 30)
  --quality Q         lossy quality 0-100 (default 45)   --lossless     bit-exact video
  --bitrate KBPS      highest video bitrate; RTCP reports lower it on a poor network (default 2000)
  --pattern NAME      videotestsrc pattern when there is no camera (default ball)
  --share-camera PATH also publish the raw camera on shared memory PATH for other local apps
  --camera-shm PATH   take video from a pixelmeet --share-camera PATH instead of a camera
  --file CLIP         send a video file (anything decodebin plays) instead of the camera, once,
                      at its own pace: a meeting with real footage and no camera
  --owner-only        silent mode: only the camera owner's face is sent, recognised by identity;
                      every other face is pixelated and, with --background, replaced whole with
                      the person; while the owner is away every face is masked
  --owner-photo FILE  with --owner-only: the owner is the face in this photo (PNG or JPEG)
                      rather than the largest face when the call starts
  --no-face ACTION    while nobody is in front of the camera: pass, drop (send no video) or blank
  --background BG     replace the background so it costs nothing to send: color (default), blur,
                      freeze (a still plate of the room), image:FILE.png|jpg, or none
Network:
  --host H            where to send (default 127.0.0.1)  --port P       its base port (default 5000)
  --listen L          local base port (default: --port)  --latency MS   jitter buffer (default 50)
  --rtx               NACK retransmission (costs a round trip of latency when used)
  --multicast GROUP   everyone sends to and hears GROUP (e.g. 239.255.42.1); with --slot, --ttl N,
                      --iface IF (network interface; lo for a meeting on one machine)
  --relay H:P         go through a pixelmeet relay at H:P; with --slot K (0..N-1) --participants N
  --server H:P        meet through the media server rtpengine, its ng control socket at H:P (start
                      one here with pipelines/media-server); with --slot K --participants N and
                      --room NAME (default pixelmeet): slot K is participant-K in the room
Privacy:
  --key-file F        SRTP with fresh keys per session, announced under the meeting key in F
                      (every participant needs the same file; mode 0600); with --server the
                      media is encrypted end to end instead (SFrame): the server cannot read it
  --make-key F        write a new random key to F (mode 0600) and exit
Other:
  --no-audio          video only                         --seconds N    stop after N seconds
  --headless          no window even with a display      --verbose      print gst-launch output
  --netsim PROPS      simulate a poor network on the outgoing video, e.g. "drop-probability=0.05"
                      or "max-kbps=300 max-bucket-size=30"
Environment: DEVICE=/dev/videoN (camera; default /dev/video0 if present, else a test source),
PIXELMEET_HOST/PORT/LISTEN/SIZE/FPS/QUALITY/
BITRATE/LATENCY/KEY_FILE/SERVER/ROOM as defaults for the flags, GST_DEBUG as usual.
USAGE
}

parse_options() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --host) host=$2; shift ;;
      --port) port=$2; shift ;;
      --listen) listen=$2; shift ;;
      --size) size=$2; shift ;;
      --fps) fps=$2; shift ;;
      --quality) quality=$2; shift ;;
      --lossless) lossless=true ;;
      --bitrate) bitrate=$2; shift ;;
      --latency) latency=$2; shift ;;
      --key-file) key_file=$2; shift ;;
      --make-key) make_key=$2; shift ;;
      --no-audio) audio=0 ;;
      --seconds) seconds=$2; shift ;;
      --headless) headless=1 ;;
      --share-camera) share_camera=$2; shift ;;
      --camera-shm) camera_shm=$2; shift ;;
      --file) video_file=$2; shift ;;
      --rtx) rtx=1 ;;
      --pattern) pattern=$2; shift ;;
      --slot) slot=$2; shift ;;
      --participants) participants=$2; shift ;;
      --multicast) multicast=$2; shift ;;
      --ttl) ttl=$2; shift ;;
      --iface) iface=$2; shift ;;
      --relay) relay=$2; shift ;;
      --server) server=$2; shift ;;
      --room) room=$2; shift ;;
      --verbose) verbose=1 ;;
      --netsim) netsim=$2; shift ;;
      --owner-only) owner_only=1 ;;
      --owner-photo) owner_photo=$2; shift ;;
      --no-face) no_face=$2; shift ;;
      --background) background=$2; shift ;;
      -h|--help) usage; exit 0 ;;
      *) echo "$prog: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
  done
  # Every value ends up in a gst-launch description or in shell arithmetic: each is checked for
  # what it is before anything runs.
  [[ $size =~ ^([0-9]+)x([0-9]+)$ ]] || die "--size wants WxH, not '$size'"
  width=${BASH_REMATCH[1]} height=${BASH_REMATCH[2]}
  whole --size "$width" 16 4096
  whole --size "$height" 16 4096
  whole --fps "$fps" 1 60
  [ -z "$quality" ] || whole --quality "$quality" 0 100
  whole --bitrate "$bitrate" 1 1000000
  whole --latency "$latency" 0 10000
  whole --seconds "$seconds" 0 86400
  whole --participants "$participants" 1 100
  whole --slot "$slot" 0 99
  whole --ttl "$ttl" 1 255
  whole --port "$port" 1 65535
  [ -n "$listen" ] || listen=$port
  whole --listen "$listen" 1 65535
  # A participant's ports run up to base + 10 x participants + 5.
  local top_port=$(( (port > listen ? port : listen) + 10 * participants + 5 ))
  [ "$top_port" -le 65535 ] || die "--port/--listen too high for $participants participants (ports up to $top_port)"
  host_name --host "$host"
  if [ -n "$relay" ]; then
    [[ $relay == *:* ]] || die "--relay wants HOST:PORT, not '$relay'"
    host_name --relay "${relay%:*}"
    whole --relay "${relay##*:}" 1 65535
  fi
  if [ -n "$server" ]; then
    [[ $server == *:* ]] || die "--server wants HOST:PORT (rtpengine's ng socket), not '$server'"
    host_name --server "${server%:*}"
    whole --server "${server##*:}" 1 65535
    [ -z "$relay$multicast" ] || die "--server goes without --relay and --multicast"
  fi
  [[ $room =~ ^[A-Za-z0-9_.-]{1,64}$ ]] || die "--room wants a name of letters, digits, _ . and -, not '$room'"
  if [ -n "$multicast" ]; then
    [[ $multicast =~ ^2(2[4-9]|3[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$ || $multicast =~ ^[fF][fF][0-9A-Fa-f:]+$ ]] ||
      die "--multicast wants a multicast group (224.0.0.0 to 239.255.255.255, or ff..::), not '$multicast'"
  fi
  [ -z "$iface" ] || [[ $iface =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || die "--iface wants a network interface name, not '$iface'"
  [[ $pattern =~ ^[a-z0-9-]{1,32}$ ]] || die "--pattern wants a videotestsrc pattern name, not '$pattern'"
  [ -z "$netsim" ] || [[ $netsim =~ ^[a-z-]+=[0-9.]+( [a-z-]+=[0-9.]+)*$ ]] ||
    die "--netsim wants netsim properties as name=number ..., not '$netsim'"
  local f
  for f in --file:"$video_file" --owner-photo:"$owner_photo" --share-camera:"$share_camera" \
    --camera-shm:"$camera_shm" --key-file:"$key_file" --make-key:"$make_key" \
    --background:"${background#image:}" DEVICE:"${DEVICE:-}"; do
    file_path "${f%%:*}" "${f#*:}"
  done
  case "$no_face" in pass|drop|blank) ;; *) die "--no-face wants pass, drop or blank" ;; esac
  if [ -n "$video_file" ]; then
    [ -r "$video_file" ] || die "cannot read the video file $video_file"
    [ -z "$camera_shm" ] || die "--file and --camera-shm both name the video: choose one"
  fi
  if [ -n "$owner_photo" ]; then
    [ "$owner_only" = 1 ] || die "--owner-photo goes with --owner-only"
    [ -r "$owner_photo" ] || die "cannot read the owner photo $owner_photo"
  fi
  case "$background" in
    color|blur|freeze|none) ;;
    image:*) [ -r "${background#image:}" ] || die "cannot read the background picture ${background#image:}" ;;
    *) die "--background wants color, blur, freeze, image:FILE or none" ;;
  esac
  [ "$slot" -lt "$participants" ] || die "--slot must be below --participants"
  if [ -n "$make_key" ]; then
    write_key "$make_key"
    exit 0
  fi
}

# A whole number from min to max, written plainly (no sign, no leading zero, which shell
# arithmetic would read as octal).
whole() { # option value min max
  if ! [[ $2 =~ ^(0|[1-9][0-9]{0,8})$ ]] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
    die "$1 wants a whole number from $3 to $4, not '$2'"
  fi
}

# An IPv4 or IPv6 address or a host name: nothing a gst-launch description would read as more.
host_name() { # option value
  [[ $2 =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$ || $2 =~ ^[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*$ ]] ||
    die "$1 wants an address or a host name, not '$2'"
}

# A file name goes into the description in double quotes: it may not end them.
file_path() { # option value
  [[ $2 != *[\"\\]* && $2 != *[[:cntrl:]]* ]] ||
    die "$1: file names with double quotes, backslashes or control characters are not taken"
}

# Build the plugins once and make GStreamer find them. Installs what is missing.
prepare() {
  # shellcheck source=../scripts/setup.sh
  source "$top/scripts/setup.sh"
  export PATH="$HOME/.cargo/bin:$PATH"
  if [ -z "${PIXELMEET_NO_BUILD:-}" ]; then
    (cd "$top" && cargo build --release -q -p gst-plugin-pixeldiff -p gst-plugin-faceroi -p gst-plugin-bgreplace -p gst-plugin-pixelmeet)
  fi
  export GST_PLUGIN_PATH="$top/target/release${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
  need pixelmeetsend "the pixelmeet plugins (cargo build --release in $top)"
  need rtpbin gstreamer1.0-plugins-good
  need udpsrc gstreamer1.0-plugins-good
  need compositor gstreamer1.0-plugins-base
  if [ "$audio" -eq 1 ]; then need opusenc gstreamer1.0-plugins-base; fi
  if [ -n "$key_file" ] && [ -z "$server" ]; then need srtpenc gstreamer1.0-plugins-bad; fi
  if [ -n "$share_camera$camera_shm" ]; then need shmsink gstreamer1.0-plugins-bad; fi
  load_key
}

need() {
  gst-inspect-1.0 "$1" >/dev/null 2>&1 || die "element $1 is missing: $2 is not installed"
}

# A port we will listen on must be free.
check_free() {
  [ -z "$multicast" ] || return 0  # a group's ports are shared by design
  local p
  for p in "$@"; do
    if command -v ss >/dev/null && [ -n "$(ss -Hlun "sport = :$p" 2>/dev/null)" ]; then
      die "UDP port $p is busy (another pixelmeet running?); choose another --listen"
    fi
  done
}

# The meeting key: 30 random bytes as hex. Each session derives its own SRTP key from it.
write_key() {
  local f=$1
  (umask 077 && od -An -tx1 -N30 /dev/urandom | tr -d ' \n' >"$f" && echo >>"$f")
  chmod 600 "$f"
  echo "$prog: wrote a new key to $f (mode 0600); give the same file to every participant" >&2
}

# The bins read the key inside the process (never on a command line) and refuse a file that
# others may read; this only fails early with the launcher's words.
load_key() {
  [ -z "$key_file" ] || [ -r "$key_file" ] || die "cannot read key file $key_file"
}

# Multicast options of the participant bins.
multicast_props() {
  if [ -n "$multicast" ]; then echo "ttl=$ttl${iface:+ multicast-iface=$iface}"; fi
}
# Through a relay a sender hears many receivers, so it cannot answer every challenge: keys are
# taken inside a time window instead (see README, Security).
key_prop() { if [ -n "$key_file" ]; then echo "key-file=\"$key_file\"${relay:+ key-freshness=window}"; fi; }
# Through a media server: the room, and this participant's name in it.
server_props() { if [ -n "$server" ]; then echo "server=$server room=$room"; fi; }
# Where our media goes, for the launchers' first line.
destination() {
  if [ -n "$server" ]; then echo "media server $server, room $room, as participant-$slot"
  else echo "$dest_host:$dest_base"; fi
}
# How the media is protected, for the launchers' first line.
privacy() {
  if [ -z "$key_file" ]; then return; fi
  if [ -n "$server" ]; then echo ", end-to-end encrypted (SFrame)"; else echo ", SRTP"; fi
}
flag() { if [ "$1" -eq 1 ]; then echo true; else echo false; fi; }

raw_kbps() { echo $((width * height * 3 / 2 * 8 * fps / 1000)); }

# The camera, a shared-memory camera, a video file or a test source; raw I420 at the chosen
# size and rate.
video_source() {
  local raw="video/x-raw,format=I420,width=$width,height=$height,framerate=$fps/1"
  local device=${DEVICE:-/dev/video0}
  if [ -n "$video_file" ]; then
    # Any audio in the file is left unlinked: the call's audio is the microphone's.
    echo "filesrc location=\"$video_file\" ! decodebin ! videoconvert ! videoscale ! videorate ! $raw"
  elif [ -n "$camera_shm" ]; then
    [ -S "$camera_shm" ] || die "no shared camera at $camera_shm (start one with --share-camera $camera_shm)"
    echo "shmsrc socket-path=\"$camera_shm\" is-live=true do-timestamp=true ! $raw ! queue max-size-buffers=2 leaky=downstream"
  elif [ -e "$device" ]; then
    echo "v4l2src device=\"$device\" ! videoconvert ! videoscale ! videorate ! $raw"
  else
    echo "videotestsrc is-live=true pattern=$pattern ! timeoverlay ! videoconvert ! $raw"
  fi
  if [ -n "$share_camera" ]; then
    echo "! tee name=camera camera. ! queue leaky=downstream max-size-buffers=2 ! shmsink socket-path=\"$share_camera\" shm-size=$((width * height * 8)) wait-for-connection=false sync=false camera. ! queue max-size-buffers=2 leaky=downstream"
  fi
}

source_description() {
  local device=${DEVICE:-/dev/video0}
  if [ -n "$video_file" ]; then echo "video file $video_file"
  elif [ -n "$camera_shm" ]; then echo "shared camera $camera_shm"
  elif [ -e "$device" ]; then echo "camera $device"
  else echo "test source (no camera at $device)"; fi
}

audio_source() {
  if have_audio_device; then
    echo "autoaudiosrc ! audioconvert ! audioresample"
  else
    echo "audiotestsrc is-live=true wave=ticks volume=0.3 ! audioconvert ! audioresample"
  fi
}

audio_sink() {
  if [ "$headless" -eq 0 ] && have_audio_device; then echo "autoaudiosink"; else echo "fakesink sync=false async=false"; fi
}

video_sink() {
  if [ "$headless" -eq 0 ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
    echo "videoconvert ! autovideosink sync=false"
  else
    echo "fakesink sync=false async=false"
  fi
}

have_audio_device() {
  ls /dev/snd/pcm* >/dev/null 2>&1 || { command -v pactl >/dev/null && pactl info >/dev/null 2>&1; }
}

# Sender of slot $slot: the pixelmeetsend bin "tx" sends to host:base; reports come back on
# $listen+10*slot+4 (+5 audio).
sender() { # dest-host dest-base
  local h=$1 b=$2 fb=$((listen + 10 * slot + 4))
  check_free "$fb"
  [ "$audio" -eq 0 ] || check_free $((fb + 1))
  echo "$(video_source) ! pixelmeetsend name=tx host=$h port=$b report-port=$fb rtx=$(flag "$rtx") $(multicast_props) $(key_prop)"
  if [ -n "$server" ]; then echo "  $(server_props) participant=participant-$slot"; fi
  echo "  ${netsim:+network-simulation=\"$netsim\"} $(sender_children)"
  if [ "$audio" -eq 1 ]; then echo "$(audio_source) ! tx.audio_sink"; fi
}

# The sender bin's children, set through it: codec, adaptation, faces, background.
sender_children() {
  echo -n "${quality:+pixeldiffenc::quality=$quality }pixeldiffenc::lossless=$lossless pixeldiffadapt::max-bitrate=$bitrate"
  echo -n " faceroi::no-face-action=$no_face"
  # In silent mode everyone but the owner is masked and goes with the background.
  if [ "$owner_only" = 1 ]; then echo -n " faceroi::mode=owner bgreplace::keep=faces"; fi
  if [ -n "$owner_photo" ]; then echo -n " faceroi::owner-photo=\"$owner_photo\""; fi
  case "$background" in
    none) echo -n " replace-background=false" ;;
    image:*) echo -n " bgreplace::background=image bgreplace::location=\"${background#image:}\"" ;;
    *) echo -n " bgreplace::background=$background" ;;
  esac
  echo
}

# Receiver of remote slot $k on $listen+10k: the pixelmeetrecv bin "rxK"; reports go to
# report-host:report-port. Video ends in "$video_out", audio in "$audio_out".
receiver() { # k report-host report-port video-out audio-out [label]
  local k=$1 rh=$2 rp=$3 vout=$4 aout=$5 b=$((listen + 10 * $1)) r="rx$1" label=${6:-}
  check_free "$b" $((b + 1))
  [ "$audio" -eq 0 ] || check_free $((b + 2)) $((b + 3))
  echo "pixelmeetrecv name=$r port=$b report-host=$rh report-port=$rp latency=$latency rtx=$(flag "$rtx")" \
    "audio=$(flag "$audio") ${multicast:+address=$multicast} $(multicast_props) $(key_prop)"
  if [ -n "$server" ]; then echo "  $(server_props) participant=participant-$k subscriber=participant-$slot"; fi
  if [ -n "$label" ]; then echo "  label=\"$label\" draw-faces=true"; fi
  echo "$r.video_src ! $vout"
  if [ "$audio" -eq 1 ]; then echo "$r.audio_src ! $aout"; fi
}

# Run a pipeline description with gst-launch-1.0, printing a stats line a second. Ends after
# --seconds when given.
run_pipeline() { # description
  local desc=$1
  if [ "$verbose" -eq 1 ]; then echo "$desc" >&2; fi
  local timeout_cmd=()
  # INT lets gst-launch end cleanly (-e); a pipeline whose sinks never saw data cannot take
  # its EOS, so it is killed 2 s later.
  if [ "$seconds" -gt 0 ]; then timeout_cmd=(timeout -k 2 -s INT "$seconds"); fi
  set +e
  # Words split at white space without globbing; gst-launch joins them again.
  local words
  read -r -a words <<<"$(echo "$desc" | tr '\n' ' ')"
  "${timeout_cmd[@]}" gst-launch-1.0 -m -e "${words[@]}" 2>&1 |
    awk -v raw="$(raw_kbps)" -v verbose="$verbose" -f "$here/stats.awk"
  local rc=${PIPESTATUS[0]}
  set -e
  # timeout's INT ends gst-launch cleanly (-e): that is the normal end of a timed run.
  if [ "$seconds" -gt 0 ] && { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; }; then rc=0; fi
  # The launchers' exit codes: 0 done, 1 the pipeline failed (gst-launch says 1 or 255), 2 a
  # bad option (before anything runs).
  if [ "$rc" -ne 0 ]; then rc=1; fi
  return "$rc"
}

# Where slot k's media goes and where reports about it go, by mode. Sets dest_host, dest_base
# (our own stream) and report_host, report_base_k (for remote slot k: its +4/+5 ports).
route() {
  if [ -n "$server" ]; then
    # The server says where media and reports go; these are unused.
    dest_host=127.0.0.1 dest_base=$port report_host=127.0.0.1 report_port_base=$port
  elif [ -n "$relay" ]; then
    local rh=${relay%:*} rp=${relay##*:}
    [[ $rp =~ ^[0-9]+$ ]] || die "--relay wants HOST:PORT"
    dest_host=$rh dest_base=$((rp + 10 * slot)) report_host=$rh report_port_base=$rp
  elif [ -n "$multicast" ]; then
    dest_host=$multicast dest_base=$((port + 10 * slot)) report_host=$multicast report_port_base=$port
    listen=$port
  else
    dest_host=$host dest_base=$port report_host=$host report_port_base=$port
  fi
}

# Every remote slot, decoded: one stream straight to the screen, several in a labelled grid.
receivers() {
  local vsink asink others=() k
  vsink=$(video_sink) asink=$(audio_sink)
  if [ -z "$relay$multicast$server" ]; then
    others=(0)
  else
    for ((k = 0; k < participants; k++)); do [ "$k" -eq "$slot" ] || others+=("$k"); done
  fi
  if [ "$audio" -eq 1 ] && [ ${#others[@]} -gt 1 ]; then
    echo "audiomixer name=mix ! audioconvert ! $asink"
  fi
  local aout="audioconvert ! audioresample ! $asink"
  [ ${#others[@]} -le 1 ] || aout="audioconvert ! audioresample ! mix."
  if [ ${#others[@]} -le 1 ]; then
    receiver "${others[0]}" "$report_host" $((report_port_base + 10 * others[0] + 4)) "$vsink" "$aout" \
      "${server:+participant ${others[0]}}"
    return
  fi
  local cols=1 n=${#others[@]}
  while [ $((cols * cols)) -lt "$n" ]; do cols=$((cols + 1)); done
  local tw=$((width / cols / 2 * 2)) th=$((height / cols / 2 * 2)) pads="" i=0
  for k in "${others[@]}"; do
    pads="$pads sink_$i::xpos=$((i % cols * tw)) sink_$i::ypos=$((i / cols * th))"
    i=$((i + 1))
  done
  echo "compositor name=grid background=black$pads ! video/x-raw,width=$width,height=$height,framerate=$fps/1 ! $vsink"
  i=0
  for k in "${others[@]}"; do
    receiver "$k" "$report_host" $((report_port_base + 10 * k + 4)) \
      "videoconvert ! videoscale ! video/x-raw,width=$tw,height=$th ! queue ! grid.sink_$i" "$aout" "participant $k"
    i=$((i + 1))
  done
}
