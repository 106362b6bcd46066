# The platform's kernel table against CMSIS-NN's, per shape (make mcu-cmsis-nn):
#   awk -v board=B -f cmsis-nn-compare.awk build/mcu/kernels-B.md build/mcu-cmsis/mcu/kernels-B.md
# Both files are `sn-mcu kernels` tables (the first: the platform's kernels, the second: the
# firmware built with CMSIS-NN's); rows are joined on kind, input, output channels, kernel and
# stride. Prints a markdown table and, per kind, the geometric means and the worst shape.
BEGIN { FS = "|" }
function trim(s) { gsub(/^ +| +$/, "", s); return s }
/^\| (dense|pointwise|depthwise) / {
    key = trim($2) " " trim($4) " " trim($5) " " trim($6) " " trim($7)
    if (FNR == NR) {
        ours[key] = trim($12) + 0
        path[key] = trim($3)
        if (!(key in seen)) { order[++n] = key; seen[key] = 1 }
    } else {
        theirs[key] = trim($12) + 0
        exact[key] = trim($14)
        cpath[key] = trim($3)
    }
}
END {
    printf "### The platform's kernels against CMSIS-NN, per shape (board %s)\n\n", board
    printf "Instructions per MAC (emulated:qemu-icount) of the platform's kernels (`make mcu-tables`) and of CMSIS-NN's int8 wrappers in the same firmware (`make mcu-cmsis-nn`; positive multipliers), same shapes, same synthetic data. *CMSIS-NN bit-exact*: its output equal to the reference's.\n\n"
    printf "| kind | input HxWxC | out C | k | stride | platform path | platform | CMSIS-NN | platform / CMSIS-NN | CMSIS-NN bit-exact |\n"
    printf "|---|---|---:|---:|---:|---|---:|---:|---:|---|\n"
    for (i = 1; i <= n; ++i) {
        key = order[i]
        if (!(key in theirs) || theirs[key] <= 0 || ours[key] <= 0)
            continue
        split(key, f, " ")
        kind = f[1] == "dense" ? "stem" : f[1]
        r = ours[key] / theirs[key]
        printf "| %s | %s | %s | %s | %s | %s | %.2f | %.2f | %.2fx | %s |\n", f[1], f[2], f[3], f[4], f[5], path[key], ours[key], theirs[key], r, exact[key]
        cnt[kind]++
        lo[kind] += log(ours[key]); lt[kind] += log(theirs[key]); lr[kind] += log(r)
        if (!(kind in worst) || r > worst[kind]) { worst[kind] = r; wshape[kind] = f[2] " k" f[4] " s" f[5] }
        if (exact[key] != "yes") notexact++
    }
    printf "\n| kind | shapes | platform (geomean) | CMSIS-NN (geomean) | platform / CMSIS-NN (geomean) | worst shape | its ratio |\n"
    printf "|---|---:|---:|---:|---:|---|---:|\n"
    split("pointwise depthwise stem", kinds, " ")
    for (k = 1; k <= 3; ++k) {
        kind = kinds[k]
        if (!cnt[kind]) continue
        printf "| %s | %d | %.2f | %.2f | %.2fx | %s | %.2fx |\n", kind, cnt[kind], exp(lo[kind] / cnt[kind]), exp(lt[kind] / cnt[kind]), exp(lr[kind] / cnt[kind]), wshape[kind], worst[kind]
    }
    if (notexact) printf "\n%d shapes where CMSIS-NN's output is not the reference's.\n", notexact
    printf "\n"
}
