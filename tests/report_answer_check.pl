#!/usr/bin/perl
# tests/test_report.sh's check of the report's answer (reports/sn_report.c): reads the DOM that
# headless Chromium built from report.html and the run directories the report was made from,
# and recomputes the answer from the runs' own summary.json, independently of the C code:
#
#   * the page opens on the answer: the first <h2> is the answer's, the first <table> is an
#     answer table, the validity section and the plots come after it, the raw runs table last;
#   * one answer table per trace and platform (null-platform runs left out), one row per
#     policy with its number of runs, a caption naming each run's clock kind (measured,
#     emulated or modelled, from context.json's clock) and the clock itself;
#   * per policy and figure (slo_attainment, served_accuracy, energy_per_query_uj): the mean
#     over its runs, printed as the runs table prints it; the best other policy (any policy
#     tied for best); the difference, this policy minus that one; its significance: the
#     two-sided Mann-Whitney U p-value (normal approximation, tie and continuity corrections)
#     over the two policies' runs when each has >= 2, else "1 run: no significance";
#   * the answer agrees with the per-run figures of the report's own runs table (each mean
#     within the rounding of the printed per-run values).
#
#   perl tests/report_answer_check.pl DOM.html RUN_OR_SET...
# Prints "ok: ..." and exits 0, or the first disagreement and exits 1.
use strict;
use warnings;
use JSON::PP;
use POSIX qw(erfc);

my ($dom_file, @sets) = @ARGV;
die "usage: $0 DOM.html RUN_OR_SET...\n" unless $dom_file && @sets;
sub bad { print "answer check: @_\n"; exit 1 }
sub slurp { my ($f) = @_; open my $h, '<', $f or return undef; local $/; my $s = <$h>; close $h; $s }
my $dom = slurp($dom_file) // bad("cannot read $dom_file");

# ---- the runs, as sn_rundir_expand finds them (a run, or the runs directly in a directory)
my @runs;
for my $s (@sets) {
    if (-f "$s/summary.json") { push @runs, $s; next }
    opendir my $d, $s or bad("cannot list $s");
    push @runs, map { "$s/$_" } sort grep { !/^\./ && -f "$s/$_/summary.json" } readdir $d;
    closedir $d;
}
bad("no run in @sets") unless @runs;

my @figs = qw(slo_attainment served_accuracy energy_per_query_uj);
my %lower = (energy_per_query_uj => 1);
my (%group, @group_order);
sub clock_kind {
    my ($c) = @_;
    return 'measured' if $c =~ /^wall:/ || $c =~ /^virtual:measured/;
    return 'emulated' if $c =~ /emulat|icount/;
    return 'modelled';
}
for my $r (@runs) {
    my $ctx = decode_json(slurp("$r/context.json") // bad("no $r/context.json"));
    my $sum = decode_json(slurp("$r/summary.json") // bad("no $r/summary.json"));
    my $platform = $ctx->{platform}{name} // '?';
    next if $platform eq 'null' || !($sum->{queries} // 0);
    (my $trace = $ctx->{run}{trace} // '?') =~ s{.*/}{};
    $trace =~ s/\.csv$//;
    (my $policy = $ctx->{run}{policy} // '?') =~ s/:.*//;
    my $key = "$trace\t$platform";
    push @group_order, $key unless $group{$key};
    my $g = $group{$key} //= { trace => $trace, platform => $platform, pol => {}, order => [], clocks => {} };
    push @{ $g->{order} }, $policy unless $g->{pol}{$policy};
    my $p = $g->{pol}{$policy} //= { runs => 0, v => { map { $_ => [] } @figs } };
    $p->{runs}++;
    my $clock = $ctx->{clock} // '?';
    $g->{clocks}{$clock} = clock_kind($clock);
    my %value = (slo_attainment => $sum->{slo_attainment}, served_accuracy => $sum->{served_accuracy},
                 energy_per_query_uj => ($sum->{energy} // {})->{per_query_uj});
    for my $f (@figs) { push @{ $p->{v}{$f} }, $value{$f} if defined $value{$f} }
}
bad("no plotted run in @sets") unless @group_order;
sub mean { my $s = 0; $s += $_ for @_; @_ ? $s / @_ : undef }

sub mwu_p { # scipy.stats.mannwhitneyu(a, b, method="asymptotic").pvalue
    my ($xa, $xb) = @_;
    my @all = sort { $a->[0] <=> $b->[0] } ((map { [$_, 1] } @$xa), (map { [$_, 0] } @$xb));
    my ($n, $na, $nb, $ra, $ties) = (scalar @all, scalar @$xa, scalar @$xb, 0, 0);
    for (my $i = 0; $i < $n;) {
        my $j = $i + 1;
        $j++ while $j < $n && $all[$j][0] == $all[$i][0];
        my $t = $j - $i;
        my $mid = ($i + 1 + $j) / 2;
        $all[$_][1] and $ra += $mid for $i .. $j - 1;
        $ties += $t**3 - $t;
        $i = $j;
    }
    my $ua = $ra - $na * ($na + 1) / 2;
    my $u = $ua > $na * $nb - $ua ? $ua : $na * $nb - $ua;
    my $var = $na * $nb / 12 * (($n + 1) - $ties / ($n * ($n - 1)));
    return 1 unless $var > 0;
    my $p = erfc(($u - $na * $nb / 2 - 0.5) / sqrt($var) / sqrt(2));
    return $p > 1 ? 1 : $p;
}
sub close_to { my ($x, $y) = @_; abs($x - $y) <= 1e-9 * (1 + abs($y)) }
sub shown { my ($f, $v) = @_; $f eq 'energy_per_query_uj' ? sprintf('%.2f', $v) : sprintf('%.2f%%', 100 * $v) }

# ---- the page opens on the answer
my ($body) = $dom =~ /<body[^>]*>(.*)<\/body>/s or bad("no <body> in the DOM");
my ($h2) = $body =~ /<h2[^>]*>(.*?)<\/h2>/s;
bad("the first heading is not the answer's: " . ($h2 // 'none')) unless ($h2 // '') =~ /^The answer/;
my ($first_table) = $body =~ /(<table\b[^>]*>)/;
bad("the first table is not an answer table: " . ($first_table // 'none'))
    unless ($first_table // '') =~ /class="answer"/;
my $pos = sub { my ($re) = @_; return $body =~ $re ? $-[0] : -1 };
my ($p_answer, $p_valid, $p_plot, $p_runs) = ($pos->(qr/<table class="answer"/),
    $pos->(qr/<h2>Can these runs tell the policies apart\?<\/h2>/), $pos->(qr/<figure /), $pos->(qr/<table id="runs"/));
bad("order: answer $p_answer, validity $p_valid, plots $p_plot, runs table $p_runs")
    unless $p_answer >= 0 && $p_valid > $p_answer && $p_plot > $p_valid && $p_runs > $p_plot;
my @tables_after_runs = substr($body, $p_runs + 1) =~ /<table\b/g;
bad("the runs table is not the last table") if @tables_after_runs;

# ---- the runs table's per-run figures (as printed), by trace, platform and policy
my %printed;
my ($runs_table) = $body =~ /<table id="runs">(.*?)<\/table>/s;
for my $tr ($runs_table =~ /<tr>(.*?)<\/tr>/sg) {
    my @c = map { s/<[^>]*>//gr } $tr =~ /<td[^>]*>(.*?)<\/td>/sg;
    next unless @c >= 17;   # run trace policy platform clock queries LoadGen SLO served eff. ...
    (my $pol = $c[2]) =~ s/:.*//;
    my $k = "$c[1]\t$c[3]\t$pol";
    push @{ $printed{$k}{slo_attainment} }, $c[7] =~ s/%$//r / 100 if $c[7] ne '-';
    push @{ $printed{$k}{served_accuracy} }, $c[8] =~ s/%$//r / 100 if $c[8] ne '-';
    push @{ $printed{$k}{energy_per_query_uj} }, $c[15] if $c[15] ne '-';
}

# ---- every answer table against the runs
my %tables;
while ($body =~ /<table class="answer"[^>]*data-trace="([^"]*)" data-platform="([^"]*)">(.*?)<\/table>/sg) {
    $tables{"$1\t$2"} = $3;
}
bad(scalar(keys %tables) . " answer tables for " . scalar(@group_order) . " traces x platforms")
    unless keys %tables == @group_order;
my ($rows, $checked) = (0, 0);
for my $key (@group_order) {
    my $g = $group{$key};
    my $t = $tables{$key} // bad("no answer table for $g->{trace} on $g->{platform}");
    my ($caption) = $t =~ /<caption>(.*?)<\/caption>/s;
    bad("no caption for $g->{trace} on $g->{platform}") unless defined $caption;
    for my $clock (sort keys %{ $g->{clocks} }) {
        my $kind = $g->{clocks}{$clock};
        (my $esc = $clock) =~ s/&/&amp;/g;
        bad("caption of $g->{trace} on $g->{platform} does not say '$kind (latency by the clock $clock)': $caption")
            unless index($caption, "$kind (latency by the clock $esc)") >= 0;
    }
    my %row;
    while ($t =~ /<tr data-policy="([^"]*)" data-runs="(\d+)">(.*?)<\/tr>/sg) {
        my ($pol, $runs, $cells) = ($1, $2, $3);
        my %cell;
        while ($cells =~ /<td ([^>]*)>(.*?)<\/td>/sg) {
            my ($attrs, $text) = ($1, $2);
            my %a = $attrs =~ /([\w-]+)="([^"]*)"/g;
            next unless $a{'data-figure'};
            $cell{ $a{'data-figure'} }{ $a{'data-col'} } = { %a, text => $text =~ s/&amp;/&/gr };
        }
        $row{$pol} = { runs => $runs, cell => \%cell };
    }
    my @pols = @{ $g->{order} };
    bad("$g->{trace} on $g->{platform}: rows for " . join(',', sort keys %row) . ", runs of " . join(',', sort @pols))
        unless join(',', sort keys %row) eq join(',', sort @pols);
    for my $pol (@pols) {
        my $p = $g->{pol}{$pol};
        my $r = $row{$pol};
        bad("$pol on $g->{trace}: $r->{runs} runs in the table, $p->{runs} given") unless $r->{runs} == $p->{runs};
        ++$rows;
        for my $f (@figs) {
            my $c = $r->{cell}{$f} // bad("$pol on $g->{trace}: no $f cells");
            my @v = @{ $p->{v}{$f} };
            next unless @v; # not recorded: nothing to compare
            my $m = mean(@v);
            bad("$pol $f: mean $c->{value}{'data-x'} in the table, $m from its runs")
                unless close_to($c->{value}{'data-x'}, $m);
            bad("$pol $f: printed '$c->{value}{text}', its runs give " . shown($f, $m))
                unless $c->{value}{text} eq shown($f, $m);
            my $pk = "$g->{trace}\t$g->{platform}\t$pol";
            my $pm = mean(@{ $printed{$pk}{$f} // [] });
            my $scale = $f eq 'energy_per_query_uj' ? 1 : 100;
            bad("$pol $f: the runs table's per-run figures average " . ($pm // 'none') . ", the answer says $m")
                unless defined $pm && abs($pm - $m) * $scale <= 0.0051;
            # the best other policy on this figure (any of those tied for best)
            my @others = grep { $_ ne $pol && @{ $g->{pol}{$_}{v}{$f} } } @pols;
            if (!@others) {
                bad("$pol $f: an alternative ($c->{alt}{'data-alt'}) where there is none") if $c->{alt}{'data-alt'} ne '';
                next;
            }
            my %om = map { $_ => mean(@{ $g->{pol}{$_}{v}{$f} }) } @others;
            my ($best) = sort { $lower{$f} ? $om{$a} <=> $om{$b} : $om{$b} <=> $om{$a} } @others;
            my $alt = $c->{alt}{'data-alt'};
            bad("$pol $f: best other is $alt, but $best is better ($om{$best} vs " . ($om{$alt} // 'none') . ")")
                unless defined $om{$alt} && $om{$alt} == $om{$best};
            my $d = $m - $om{$alt};
            bad("$pol $f: difference $c->{diff}{'data-x'} in the table, $d from the runs (vs $alt)")
                unless close_to($c->{diff}{'data-x'}, $d);
            my $dtext = $f eq 'energy_per_query_uj' ? sprintf('%+.2f', $d) : sprintf('%+.2f pt', 100 * $d);
            bad("$pol $f: difference printed '$c->{diff}{text}', the runs give $dtext")
                unless index($c->{diff}{text}, $dtext) == 0;
            # significance: never from one run
            my @w = @{ $g->{pol}{$alt}{v}{$f} };
            my $sig = $c->{sig};
            if (@v < 2 || @w < 2) {
                bad("$pol $f: $#v+1 vs $#w+1 runs but '$sig->{text}' (p $sig->{'data-x'})")
                    unless $sig->{text} =~ /^1 run: no significance/ && $sig->{'data-x'} =~ /^-?nan$/i;
            } else {
                my $pv = mwu_p(\@v, \@w);
                my $want = ($pv < 0.05 ? 'significant' : 'not significant') .
                           ($pv < 0.001 ? ': p < 0.001' : sprintf(': p = %.3f', $pv));
                bad("$pol $f: p $sig->{'data-x'} in the table, $pv from the runs")
                    unless close_to($sig->{'data-x'}, $pv);
                bad("$pol $f: significance '$sig->{text}', want '$want ...'") unless index($sig->{text}, $want) == 0;
            }
            ++$checked;
        }
    }
}
my $mwu = () = $dom =~ /U test, \d+ vs \d+ runs/g;
my $one = () = $dom =~ /1 run: no significance/g;
print "ok: the page opens on the answer; " . scalar(@group_order) . " table(s), $rows policy rows, $checked figures " .
      "agree with the runs ($mwu U tests, $one '1 run: no significance')\n";
exit 0;
