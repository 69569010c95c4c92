#!/usr/bin/perl
# A userspace stand-in for `tc netem` (this machine's kernel has no sch_netem) used by fault.sh: it
# creates one TUN device in each of two network namespaces and relays IP packets between them, holding
# each packet DELAY_MS and dropping LOSS_PCT % of them at random, per direction. fault.sh routes the two
# hosts' traffic to each other through the devices; killing the relay removes them (they are not persistent),
# so traffic falls back to the bridge.
#   perl netem-relay.pl NS_A TUN_A NS_B TUN_B DELAY_MS LOSS_PCT
use strict;
use warnings;
use Time::HiRes qw(time);

my ($ns_a, $tun_a, $ns_b, $tun_b, $delay_ms, $loss_pct) = @ARGV;
die "usage: $0 NS_A TUN_A NS_B TUN_B DELAY_MS LOSS_PCT\n" unless defined $loss_pct;

# x86_64 / aarch64 syscall numbers of setns(2); CLONE_NEWNET; TUNSETIFF; IFF_TUN | IFF_NO_PI.
my %SETNS = (x86_64 => 308, aarch64 => 268);
my $arch = `uname -m`;
chomp $arch;
my $sys_setns = $SETNS{$arch} or die "netem-relay: no setns syscall number for $arch\n";
use constant { CLONE_NEWNET => 0x40000000, TUNSETIFF => 0x400454ca, IFF_TUN_NO_PI => 0x0001 | 0x1000 };

# tun_in NS NAME: enter NS and create (and attach to) the TUN device NAME there.
sub tun_in {
    my ($ns, $name) = @_;
    open(my $nsfh, '<', "/var/run/netns/$ns") or die "netem-relay: namespace $ns: $!\n";
    syscall($sys_setns, fileno($nsfh), CLONE_NEWNET) == 0 or die "netem-relay: setns $ns: $!\n";
    open(my $fh, '+<', '/dev/net/tun') or die "netem-relay: /dev/net/tun: $!\n";
    ioctl($fh, TUNSETIFF, pack('a16 s', $name, IFF_TUN_NO_PI)) or die "netem-relay: TUNSETIFF $name: $!\n";
    binmode $fh;
    return $fh;
}

my @in = (tun_in($ns_a, $tun_a), tun_in($ns_b, $tun_b));
my @out = ($in[1], $in[0]);
my @queue = ([], []);    # per direction: [due time, packet], oldest first (constant delay keeps order)
my $delay = $delay_ms / 1000;
$SIG{TERM} = $SIG{INT} = sub { exit 0 };

while (1) {
    my $rin = '';
    vec($rin, fileno($_), 1) = 1 for @in;
    my $wait;
    for my $q (@queue) {
        next unless @$q;
        my $w = $q->[0][0] - time;
        $wait = $w if !defined $wait || $w < $wait;
    }
    $wait = 0 if defined $wait && $wait < 0;
    my $n = select(my $rout = $rin, undef, undef, $wait);
    if ($n > 0) {
        for my $d (0, 1) {
            next unless vec($rout, fileno($in[$d]), 1);
            my $r = sysread($in[$d], my $packet, 65536);
            next unless $r;
            next if rand(100) < $loss_pct;
            push @{ $queue[$d] }, [time + $delay, $packet];
        }
    }
    my $now = time;
    for my $d (0, 1) {
        while (@{ $queue[$d] } && $queue[$d][0][0] <= $now) {
            syswrite($out[$d], shift(@{ $queue[$d] })->[1]);
        }
    }
}
