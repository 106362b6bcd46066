#!/bin/sh
# A self-contained copy of the OpenCL tests and benchmark for another Linux x86-64 machine (a
# GPU host without this repository or its build dependencies): OPENCL_BUNDLE (default
# build/opencl-bundle) holds supernav and test_opencl with the shared libraries they were
# linked against (glibc and its loader included, so the host's own glibc version does not
# matter), CF-64's model image and golden vectors (the tests'), the benchmark's model image and
# accuracy table, the first OPENCL_BUNDLE_CANVASES (default 1000) canvases of its test split
# (MODEL_IMAGE, MODEL_TABLE, MODEL_TEST: CF-64's by default, as make passes them for MODEL),
# bench.sh (bench/opencl/run.sh) and run.sh, which runs on that machine:
#   OCL_ICD_FILENAMES=/path/to/libnvidia-opencl.so.1 sh BUNDLE/run.sh OUTDIR
# (the vendor's ICD library; found automatically when it is on the usual paths) -- the
# OpenCL tests on the GPU, then the benchmark (OpenCL vs that host's CPU) into OUTDIR.
set -eu
SUPERNAV=${SUPERNAV:-build/supernav}
B=${OPENCL_BUNDLE:-build/opencl-bundle}
N=${OPENCL_BUNDLE_CANVASES:-1000}
MODEL_IMAGE=${MODEL_IMAGE:-build/supernet.snm}
MODEL_TABLE=${MODEL_TABLE:-workloads/supernet/accuracy.csv}
MODEL_TEST=${MODEL_TEST:-data/canvas/cf64-test}
die() { echo "bundle: error: $*" >&2; exit 1; }
[ -x "$SUPERNAV" ] && [ -x build/tests/test_opencl ] && [ -f build/supernet.snm ] && [ -f "$MODEL_IMAGE" ] ||
    die "run make first (and make MODEL=... for another model's image)"
side=$("$SUPERNAV" info "$MODEL_IMAGE" | sed -n 's/^canvas *\([0-9]*\)x.*/\1/p')
[ -n "$side" ] || die "supernav info $MODEL_IMAGE printed no canvas"
rm -rf "$B"
mkdir -p "$B/bin" "$B/lib/glibc" "$B/data" "$B/bench-model"
cp "$SUPERNAV" build/tests/test_opencl "$B/bin/"
cp build/supernet.snm workloads/supernet/golden.safetensors "$B/"
cp "$MODEL_IMAGE" "$B/bench-model/model.snm"
cp "$MODEL_TABLE" "$B/bench-model/accuracy.csv"
test_name=$(basename "$MODEL_TEST")
cp bench/opencl/run.sh "$B/bench.sh"
for bin in "$B/bin/supernav" "$B/bin/test_opencl"; do
    ldd "$bin" | awk '/=> \// { print $3 } /^[ \t]*\/.*ld-linux/ { print $1 }'
done | sort -u | while read -r lib; do
    # glibc's own libraries apart: they are used only with the bundled loader
    case $(basename "$lib") in
        ld-linux*|libc.so.*|libm.so.*) cp -L "$lib" "$B/lib/glibc/" ;;
        *) cp -L "$lib" "$B/lib/" ;;
    esac
done
libdir=$(dirname "$(ldd "$B/bin/supernav" | awk '/libc.so/ { print $3 }')")
for stub in libdl.so.2 libpthread.so.0 librt.so.1; do
    [ ! -e "$libdir/$stub" ] || cp -L "$libdir/$stub" "$B/lib/glibc/"
done
loader=$(cd "$B/lib/glibc" && ls ld-linux-*.so.* | head -1)
[ -n "$loader" ] || die "no dynamic loader found by ldd"
need=$(getconf GNU_LIBC_VERSION | awk '{ print $2 }')
# The wrappers run the host's own loader and glibc when they are at least as new as this
# build's (vendor ICDs are built against the host's), else the bundled ones; an OpenCL ICD
# loader in $OPENCL_LOADER_DIR (a folder holding libOpenCL.so.1) replaces the bundled one.
for tool in supernav test_opencl; do
    cat > "$B/$tool" <<WRAP
#!/bin/sh
here=\$(cd "\$(dirname "\$0")" && pwd)
have=\$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{ print \$2 }')
if [ -n "\$have" ] && [ "\$(printf '%s\\n%s\\n' "$need" "\$have" | sort -V | head -1)" = "$need" ]; then
    LD_LIBRARY_PATH="\${OPENCL_LOADER_DIR:+\$OPENCL_LOADER_DIR:}\$here/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "\$here/bin/$tool" "\$@"
fi
exec "\$here/lib/glibc/$loader" --library-path "\$here/lib/glibc:\${OPENCL_LOADER_DIR:+\$OPENCL_LOADER_DIR:}\$here/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" "\$here/bin/$tool" "\$@"
WRAP
    chmod +x "$B/$tool"
done
# the first N canvases of the model's test split (canvas i depends only on the split and i)
/usr/bin/python3 - "$N" "$MODEL_TEST" "$B/data/$test_name" "$side" <<'PY'
import struct, sys
n, src, dst, side = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
for kind, per in (("images-idx3-ubyte", side * side), ("labels-idx1-ubyte", 1)):
    b = open(f"{src}-{kind}", "rb").read()
    nd = b[3]
    dims = list(struct.unpack(f">{nd}I", b[4:4 + 4 * nd]))
    assert dims[0] >= n
    dims[0] = n
    head = b[:4] + struct.pack(f">{nd}I", *dims)
    open(f"{dst}-{kind}", "wb").write(head + b[4 + 4 * nd:4 + 4 * nd + n * per])
PY
echo "BENCH_DATA=$test_name" > "$B/bench-model/data"
cat > "$B/run.sh" <<'RUN'
#!/bin/sh
# On the GPU host: sh BUNDLE/run.sh OUTDIR
set -u
B=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-results/opencl-bundle}
mkdir -p "$OUT"
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    uname -srm
    sed -n 's/^PRETTY_NAME=//p' /etc/os-release 2>/dev/null
    echo "cpus: $(nproc) ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1))"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null
} | tee "$OUT/host.txt"
if [ -z "${OCL_ICD_FILENAMES:-}" ]; then
    lib=$(ls /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 /usr/lib64/libnvidia-opencl.so.1 \
          /usr/lib/libnvidia-opencl.so.1 2>/dev/null | head -1)
    [ -n "$lib" ] || lib=$(find / -xdev -name 'libnvidia-opencl.so.1*' 2>/dev/null | head -1)
    [ -z "$lib" ] || export OCL_ICD_FILENAMES="$lib"
fi
echo "OCL_ICD_FILENAMES=${OCL_ICD_FILENAMES:-} vendors: $(ls /etc/OpenCL/vendors 2>/dev/null | tr '\n' ' ')" | tee -a "$OUT/host.txt"
# Debian's ocl-icd 2.3.1 (bundled) skips NVIDIA's ICD (OCL-dev/ocl-icd#32): when it lists no
# GPU, try the host's ICD loaders (e.g. the Khronos loader in CUDA's lib folder) for one that does
if [ -z "${OPENCL_LOADER_DIR:-}" ] && ! "$B/supernav" eval --device list 2>/dev/null | grep -q '(GPU)'; then
    for f in $(find /usr /opt -name 'libOpenCL.so*' 2>/dev/null | grep -v "$B"); do
        d=/tmp/opencl-loader-$(echo "$f" | cksum | cut -d' ' -f1)
        mkdir -p "$d" && ln -sf "$f" "$d/libOpenCL.so.1"
        if OPENCL_LOADER_DIR=$d "$B/supernav" eval --device list 2>/dev/null | grep -q '(GPU)'; then
            export OPENCL_LOADER_DIR=$d
            echo "OpenCL ICD loader: $f (the bundled ocl-icd lists no GPU)" | tee -a "$OUT/host.txt"
            break
        fi
    done
fi
if ! "$B/supernav" eval --device list | tee -a "$OUT/host.txt"; then
    { ldconfig -p | grep -i -E 'opencl|libcuda' ; ls /etc/OpenCL/vendors /usr/lib/x86_64-linux-gnu 2>&1 | grep -i -E 'nvidia|opencl|icd'; } | head -40
    exit 1
fi
echo "== tests (device: ${SUPERNAV_OPENCL_DEVICE:-the first GPU, else the first device})" | tee -a "$OUT/host.txt"
SN_MODEL="$B/supernet.snm" SN_GOLDEN="$B/golden.safetensors" timeout 300 "$B/test_opencl" > "$OUT/test_opencl.tap" 2>&1
echo "test_opencl exit $?" | tee -a "$OUT/host.txt"
grep -E '^(not ok|# )' "$OUT/test_opencl.tap" | head -20
echo "== benchmark"
. "$B/bench-model/data"
SUPERNAV="$B/supernav" OPENCL_MODEL="$B/bench-model/model.snm" OPENCL_DATA="$B/data/$BENCH_DATA" \
    OPENCL_TABLE="$B/bench-model/accuracy.csv" OPENCL_OUT="$OUT/bench" sh "$B/bench.sh"
RUN
chmod +x "$B/run.sh"
du -sh "$B" | awk '{ print "bundle: " $1 " in '"$B"'" }'
