package tasks

// perlUnitProperties is a perl program that prints the properties of a systemd unit that
// the daemon state read needs: MainPID, ExecStart, Environment, EnvironmentFiles and
// LoadState, in the form of systemctl show. Its first argument names the unit, and it
// adds ".service" to a name without a unit type, as systemctl does. The byte perlPartEnd
// ends each of its four parts: the properties, the main process's argv with one word a
// line, copies of files as copy_text prints them, and the report fields file_meta and
// file_hex. It copies the unit's environment files when ExecStart uses a variable, and
// the regular files among its second argument, a list separated by colons. A file that
// contains perlPartEnd fails the program. The fields describe the file open on the
// descriptor that its third argument names, if any, when it is at most 64 KiB. They hold
// its mode, owner, group and size as the state script's stat prints them, and its
// content in hex. The program reads that file from its start and seeks back there.
//
// More arguments are left to a program after it, such as perlHTTPGet, which runs only
// when the unit has a main process. Otherwise a request to the Docker API could start
// dockerd through docker.socket before the state read looks for a running dockerd.
//
// It reads the properties with Properties.Get on the D-Bus system bus, as busctl would.
// That spares the start of systemctl, which loads systemd's shared library, and the
// direct connection that systemctl opens to systemd. Measured on a lab host, with the
// CPU that the bus and systemd spend on it: about 3 ms against systemctl's 5.5.
//
// It prints nothing and exits 1 on any failure, and the caller then runs systemctl show.
// Failures include a unit name with a character that systemctl would escape, a value
// with a control character or bytes that are not UTF-8 (which systemctl escapes), a host
// without a system bus, a bus that does not reply within 3 s, an error reply and a reply
// in big-endian order.
//
// Each Environment item is quoted as systemctl quotes it: in double quotes, with \ before
// ", \, ` and $, when the item contains a character that a shell treats specially. Like
// perlHTTPGet, the program uses no module and contains no single quote, so that a shell
// script can hold it in single quotes.
//
// TODO(perf): perl compiles this program of about 7 kB on every read, about 1.5 ms of a
// lab host's CPU, which is most of what the perl costs.
const perlUnitProperties = `my ($unit, $accounts, $fd) = splice(@ARGV, 0, 3); $SIG{ALRM} = sub { exit 1 }; alarm 3;
socket(my $bus, 1, 1, 0) or exit 1;
connect($bus, pack("S Z108", 1, "/run/dbus/system_bus_socket")) or exit 1;
my $in = "";
sub fill { my $n = sysread($bus, $in, 65536, length $in); exit 1 unless $n }
defined syswrite($bus, "\0AUTH EXTERNAL " . unpack("H*", $<) . "\r\n") or exit 1;
fill() until $in =~ /\r\n/;
$in =~ /\AOK / or exit 1;
$in = "";

sub pad { ${$_[0]} .= "\0" x (-length(${$_[0]}) % $_[1]) }
sub str { pad($_[0], 4); ${$_[0]} .= pack("V", length $_[1]) . $_[1] . "\0" }
$unit =~ /\A[A-Za-z0-9:_.\@\\-]+\z/ or exit 1;
$unit .= ".service"
	unless $unit =~ /\.(service|socket|target|device|mount|automount|swap|timer|path|slice|scope)\z/;
(my $label = $unit) =~ s/([^A-Za-z0-9])/sprintf("_%02x", ord $1)/ge;
$label =~ s/\A([0-9])/sprintf("_%02x", ord $1)/e;
$label = "_" if $label eq "";
my ($serial, $msgs) = (0, "BEGIN\r\n");
for my $q ([], ["Unit", "LoadState"], ["Service", "MainPID"], ["Service", "ExecStart"],
	["Service", "Environment"], ["Service", "EnvironmentFiles"]) {
	my ($body, $fields) = ("", "");
	my @f = ([1, "o", "/org/freedesktop/DBus"], [2, "s", "org.freedesktop.DBus"],
		[3, "s", "Hello"], [6, "s", "org.freedesktop.DBus"]);
	if (@$q) {
		str(\$body, "org.freedesktop.systemd1.$q->[0]");
		str(\$body, $q->[1]);
		@f = ([1, "o", "/org/freedesktop/systemd1/unit/$label"],
			[2, "s", "org.freedesktop.DBus.Properties"], [3, "s", "Get"],
			[6, "s", "org.freedesktop.systemd1"], [8, "g", "ss"]);
	}
	for my $f (@f) {
		pad(\$fields, 8);
		$fields .= pack("C C a C", $f->[0], 1, $f->[1], 0);
		if ($f->[1] eq "g") { $fields .= pack("C", length $f->[2]) . $f->[2] . "\0" }
		else { str(\$fields, $f->[2]) }
	}
	my $head = "l" . pack("C C C V V V", 1, 0, 1, length $body, ++$serial, length $fields) . $fields;
	pad(\$head, 8);
	$msgs .= $head . $body;
}
defined syswrite($bus, $msgs) or exit 1;

my ($d, $p);
my %align = (y => 1, g => 1, v => 1, n => 2, q => 2, t => 8, x => 8, d => 8, "(" => 8, "{" => 8);
my %basic = (y => ["C", 1], b => ["V", 4], n => ["s<", 2], q => ["v", 2], i => ["l<", 4],
	u => ["V", 4], h => ["V", 4], t => ["", 8], x => ["", 8], d => ["", 8]);
sub len1 {
	my ($sig) = @_;
	my $c = substr($sig, 0, 1);
	return 1 + len1(substr($sig, 1)) if $c eq "a";
	return 1 unless $c eq "(" || $c eq "{";
	my $depth = 0;
	for my $i (0 .. length($sig) - 1) {
		my $x = substr($sig, $i, 1);
		$depth++ if $x eq "(" || $x eq "{";
		$depth-- if $x eq ")" || $x eq "}";
		return $i + 1 if !$depth;
	}
	exit 1;
}
sub val {
	my ($sig) = @_;
	my $c = substr($sig, 0, 1);
	$p += -$p % ($align{$c} || 4);
	exit 1 if $p > length $d;
	if ($c eq "s" || $c eq "o" || $c eq "g") {
		my $n = $c eq "g" ? unpack("C", substr($d, $p++, 1)) : unpack("V", substr($d, ($p += 4) - 4, 4));
		my $v = substr($d, $p, $n);
		$p += $n + 1;
		exit 1 if $p > length $d;
		return $v;
	}
	if (my $b = $basic{$c}) {
		my $v = $b->[0] eq "" ? 0 : unpack($b->[0], substr($d, $p, $b->[1]));
		$p += $b->[1];
		return $v;
	}
	if ($c eq "a") {
		my $n = unpack("V", substr($d, $p, 4));
		$p += 4;
		my $e = substr($sig, 1, len1(substr($sig, 1)));
		$p += -$p % ($align{substr($e, 0, 1)} || 4);
		my $end = $p + $n;
		my @v;
		push @v, val($e) while $p < $end;
		exit 1 if $p != $end;
		return \@v;
	}
	if ($c eq "(" || $c eq "{") {
		my $inner = substr($sig, 1, len1($sig) - 2);
		my @v;
		while (length $inner) {
			my $n = len1($inner);
			push @v, val(substr($inner, 0, $n));
			$inner = substr($inner, $n);
		}
		return \@v;
	}
	return val(val("g")) if $c eq "v";
	exit 1;
}

my %got;
while (keys %got < $serial) {
	fill() while length $in < 16;
	my ($order, $type, $blen, $flen) = unpack("a C x2 V x4 V", $in);
	$order eq "l" or exit 1;
	my $hlen = 16 + $flen;
	$hlen += -$hlen % 8;
	fill() while length $in < $hlen + $blen;
	my $m = substr($in, 0, $hlen + $blen, "");
	next if $type == 4;
	($d, $p) = (substr($m, 0, $hlen), 12);
	my $reply;
	for (@{ val("a(yv)") }) { $reply = $_->[1] if $_->[0] == 5 }
	$type == 2 && $reply && $reply <= $serial or exit 1;
	($d, $p) = (substr($m, $hlen), 0);
	$got{$reply} = $reply == 1 ? "" : val("v");
}

my ($load, $pid, $exec, $env, $files) = @got{2 .. 6};
ref $exec && ref $env && ref $files or exit 1;
# systemctl escapes control characters and bytes that are not UTF-8, which this program
# leaves to it.
for ($load, @$env, map({ ($_->[0], @{$_->[1]}) } @$exec), map({ $_->[0] } @$files)) {
	my $text = $_;
	utf8::decode($text) && $text !~ /[\x00-\x1f\x7f]/ or exit 1;
}
my $o = "MainPID=$pid\n";
for (@$exec) {
	$o .= "ExecStart={ path=$_->[0] ; argv[]=@{$_->[1]} ; ignore_errors=" .
		($_->[2] ? "yes" : "no") . " }\n";
}
my @words = map {
	my $w = $_;
	if ($w =~ /["\\\x60\$*?\[\x27()<>|&;! \t\n\r]/) { $w =~ s/(["\\\x60\$])/\\$1/g; $w = "\"$w\"" }
	$w;
} @$env;
$o .= "Environment=@words\n";
for (@$files) { $o .= "EnvironmentFiles=$_->[0] (ignore_errors=" . ($_->[1] ? "yes" : "no") . ")\n" }
$o .= "LoadState=$load\x1e";
if ($pid && open(my $f, "<", "/proc/$pid/cmdline")) {
	local $/;
	my $argv = <$f>;
	$o .= $argv =~ tr/\0/\n/r if defined $argv;
}
$o .= "\x1e";

sub copy {
	my ($name, $file) = @_;
	my ($t, $data) = ("` + reportSectionMarker + `$name\n", "");
	open(my $h, "<", $file) or return $t;
	while (length $data <= 262144) { sysread($h, $data, 65536, length $data) or last }
	return $t if length($data) + ($data eq "" || $data =~ /\n\z/ ? 0 : 1) > 262144;
	my @lines = split /\n/, $data, -1;
	pop @lines if @lines && $lines[-1] eq "";
	return $t . join("", map { "|$_\n" } @lines) . "end\n";
}
if (grep { "$_->[0] @{$_->[1]}" =~ /\$/ } @$exec) {
	for (@$files) {
		my ($f) = split / /, $_->[0];
		if (!defined $f || $f eq "") { next }
		elsif (-f $f && -r _) { $o .= copy("` + envFileSection + `$f", $f) }
		elsif (!-e $f) { $o .= "` + reportSectionMarker + envFileMissingSection + `$f\n" }
		elsif (!-f _) { $o .= "` + reportSectionMarker + envFileOtherSection + `$f\n" }
	}
}
for (split /:/, $accounts // "") { $o .= copy("` + accountSectionPrefix + `$_", $_) if -f $_ }
$o .= "\x1e";
if (($fd // "") =~ /\A[0-9]+\z/ && open(my $h, "<&=", $fd)) {
	my @st = stat $h;
	my $data = "";
	if (@st && $st[7] <= 65536) {
		while (sysread($h, $data, 65536, length $data)) {}
		sysseek($h, 0, 0) or exit 1;
		$o .= sprintf("file_meta=%o %d %d %d\nfile_hex=%s\n", $st[2] & 07777, @st[4, 5, 7],
			unpack("H*", $data)) if length $data == $st[7];
	}
}
$o =~ tr/\x1e// == 3 or exit 1;
# The alarm must not cut the output: the shell takes whole parts as complete.
alarm 0;
print $o . "\x1e";
exit 0 unless @ARGV && $pid;
`

// perlPartEnd is the byte that ends each part of perlUnitProperties' output: ASCII's
// record separator. The shell splits the output at it with one field split, which takes
// time in proportion to the output's length. Patterns such as ${out#*mark} take time in
// proportion to its square in dash: about 10 ms of a lab host's CPU for 5 kB.
const perlPartEnd = "\x1e"
