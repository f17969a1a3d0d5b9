#!/usr/bin/perl
# A test SMSC (SMPP 3.4) for the SMPP backend's tests, on Debian's Net::SMPP (libnet-smpp-perl):
# Net::SMPP reads, decodes and encodes every PDU; the server logic (binds, message ids, receipts,
# faults) is this script's. One process, one event loop over the listening socket, every SMPP
# connection and the control connections, all on 127.0.0.1.
#
#   perl net-smpp-smsc.pl --port P --control C --log FILE [--config JSON]
#
# Prints READY once both ports listen. Every PDU received and sent is one JSON line in FILE.
# The control port takes one JSON command per line, {"id":1,"op":"slow","ms":200}, and answers
# each with one line, {"id":1,"ok":true,"result":...} or {"id":1,"ok":false,"error":"..."}; see
# %commands below. test/support/smpp-smsc.ts drives it. The script exits on SIGTERM, and when its
# stdin closes (the process that started it is gone).
use strict;
use warnings;
use Encode qw(decode);
use Getopt::Long;
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use POSIX qw(strftime);
use Time::HiRes qw(time);
use Net::SMPP;
use Socket qw(IPPROTO_TCP TCP_NODELAY);

# Net::SMPP's connection object reads and writes its socket itself, blocking (read_pdu reads until
# a whole PDU is in; every PDU method ends in syswrite). These two overrides make read_pdu take its
# bytes from the connection's input buffer (filled by the event loop, which only calls read_pdu
# once a whole PDU is buffered) and make the PDU methods append to its output buffer (written out
# by the event loop when the socket takes it), so no connection ever blocks another.
package SmscConnection {
    our @ISA = ('Net::SMPP');

    sub sysread {
        my ($me, undef, $length, $offset) = @_;
        my $state = ${*$me}{smsc};
        my $chunk = substr($state->{in}, 0, $length, '');
        $_[1] = substr($_[1] // '', 0, $offset // 0) . $chunk;
        $! = 0;    # read_hard retries while $! says "Interrupted": never let a stale one through
        return length $chunk;
    }

    sub syswrite {
        my ($me, $bytes) = @_;
        main::sent(${*$me}{smsc}, $bytes);
        return length $bytes;
    }
}

package main;

use constant {
    ESME_ROK        => 0x00,
    ESME_RINVCMDID  => 0x03,
    ESME_RINVBNDSTS => 0x04,
    ESME_RALYBND    => 0x05,
    ESME_RINVPASWD  => 0x0E,
    ESME_RINVSYSID  => 0x0F,
    ESME_RTHROTTLED => 0x58,
    MAX_PDU         => 65536 + 512,
    DELIVER_TIMEOUT => 10,
};
my %MESSAGE_STATE = (ENROUTE => 1, DELIVRD => 2, EXPIRED => 3, DELETED => 4, UNDELIV => 5, ACCEPTD => 6, UNKNOWN => 7, REJECTD => 8);
my %BIND_AS = (bind_transmitter => 'transmitter', bind_receiver => 'receiver', bind_transceiver => 'transceiver');

my %option = (config => '{}');
GetOptions(\%option, 'port=i', 'control=i', 'log=s', 'config=s')
    && $option{port} && $option{control} && $option{log}
    or die "usage: $0 --port P --control C --log FILE [--config JSON]\n";

my $json = JSON::PP->new->utf8;    # for what comes in; what goes out is to_json's
$SIG{__WARN__} = sub { print STDERR $_[0] unless $_[0] =~ /^Unknown tag/ };    # Net::SMPP warns on every TLV it has no name for
$SIG{PIPE} = 'IGNORE';
my $running = 1;
$SIG{TERM} = $SIG{INT} = sub { $running = 0 };

# ---- configuration (the --config JSON, then the control port's "configure") ----

my %config = (
    accounts   => [{ systemId => 'rapidsms', password => 'secret' }],
    messageIds => 'hex',
    receipts   => { when => 'after', form => 'tlv', idBase => 'same', stat => 'DELIVRD', onlyLastPart => 0 },
);

sub configure {
    my ($options) = @_;
    die "configuration must be a JSON object\n" unless ref $options eq 'HASH';
    if (exists $options->{accounts}) {
        my $accounts = $options->{accounts};
        die "accounts must be a list of { systemId, password }\n"
            unless ref $accounts eq 'ARRAY' && !grep { ref $_ ne 'HASH' || !defined $_->{systemId} || !defined $_->{password} } @$accounts;
        $config{accounts} = [map { { systemId => "$_->{systemId}", password => "$_->{password}" } } @$accounts];
    }
    if (exists $options->{messageIds}) {
        die "messageIds must be \"hex\" or \"decimal\"\n" unless ($options->{messageIds} // '') =~ /^(hex|decimal)$/;
        $config{messageIds} = $options->{messageIds};
    }
    if (exists $options->{receipts}) {
        my $receipts = $options->{receipts};
        die "receipts must be an object\n" unless ref $receipts eq 'HASH';
        my %allowed = (when => qr/^(after|before|none)$/, form => qr/^(tlv|text)$/, idBase => qr/^(same|decimal)$/, stat => qr/^[A-Z]{1,7}$/);
        for my $key (keys %$receipts) {
            if ($key eq 'onlyLastPart') { $config{receipts}{onlyLastPart} = $receipts->{onlyLastPart} ? 1 : 0; next }
            die "unknown receipts setting \"$key\"\n" unless $allowed{$key};
            die "receipts.$key cannot be \"" . ($receipts->{$key} // 'null') . "\"\n" unless ($receipts->{$key} // '') =~ $allowed{$key};
            $config{receipts}{$key} = $receipts->{$key};
        }
    }
}
configure($json->decode($option{config}));

# ---- state ----

my $listener = SmscConnection->new_listen('127.0.0.1', port => $option{port}, async => 1)
    or die "cannot listen on 127.0.0.1:$option{port}: $!\n";
$listener->blocking(0);
${*$listener}{io_socket_timeout} = undef;    # else IO::Socket's accept waits up to new_listen's 5 s for the next client
my $control_listener = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $option{control}, Listen => 16, ReuseAddr => 1)
    or die "cannot listen on 127.0.0.1:$option{control}: $!\n";
$control_listener->blocking(0);
open(my $log, '>>', $option{log}) or die "cannot open $option{log}: $!\n";
binmode $log;

my $readers = IO::Select->new($listener, $control_listener, \*STDIN);
my %connections;         # number => state of one SMPP connection
my $last_connection = 0;
my %controls;            # fileno => { socket, in, out }
my @submits;             # every submit_sm read, in order (the records "submits" answers)
my @binds;               # every bind attempt, in order
my $message_counter = 100000 + int(rand(900000));
my %fault = (throttle_until => 0, throttle_status => ESME_RTHROTTLED, slow_ms => 0, drop_after => undef, nack_next => 0, silent_until => 0);
my %waiting_receipts;    # systemId => [receipt, ...] for when no receiver-capable connection is bound
my $round_robin = 0;
my @timers;              # [due, callback], sorted by due
my %closed_max_outstanding;    # number => the most submits outstanding at once, of connections closed

sub now_ms { int(time() * 1000) }
sub silent { time() < $fault{silent_until} }

sub add_timer {
    my ($due, $callback) = @_;
    my ($low, $high) = (0, scalar @timers);
    while ($low < $high) {
        my $middle = ($low + $high) >> 1;
        if ($timers[$middle][0] <= $due) { $low = $middle + 1 } else { $high = $middle }
    }
    splice @timers, $low, 0, [$due, $callback];
}

# ---- the PDU log ----

# JSON::PP's encoder takes most of the time at thousands of PDUs a second: lines are written by
# this one, which knows which fields are numbers (everything else is a string; \1 and \0 are true
# and false).
my %NUMERIC = map { ($_ => 1) } qw(id result connection sequence status at sourceAddrTon sourceAddrNpi destAddrTon destAddrNpi esmClass dataCoding registeredDelivery sent);

sub to_json {
    my ($value, $numeric) = @_;
    return 'null' unless defined $value;
    my $type = ref $value;
    if ($type eq 'HASH') {    # scalars inline: a sub call per field would double the cost
        return '{' . join(',', map {
            my $field = $value->{$_};
            qq("$_":) . (!defined $field || ref $field ? to_json($field, $NUMERIC{$_})
                : $NUMERIC{$_} && $field =~ /^-?(?:0|[1-9][0-9]*)\z/ ? $field
                : $field =~ /[^\x20\x21\x23-\x5b\x5d-\x7e]/ ? json_string($field)
                : qq("$field"));
        } keys %$value) . '}';
    }
    return '[' . join(',', map { to_json($_, $numeric) } @$value) . ']' if $type eq 'ARRAY';
    return $$value ? 'true' : 'false' if $type eq 'SCALAR';
    return $value if $numeric && $value =~ /^-?(?:0|[1-9][0-9]*)\z/;
    return json_string($value);
}

sub json_string {
    my $string = "$_[0]";
    $string =~ s/(["\\])/\\$1/g;
    $string =~ s/([\x00-\x1f\x7f])/sprintf('\\u%04x', ord $1)/ge;
    utf8::encode($string) if $string =~ /[^\x00-\x7f]/;    # octets read off the wire: as Latin-1
    return qq("$string");
}

sub log_line { print {$log} to_json($_[0]), "\n" }

sub command_name {
    my ($command_id) = @_;
    my $known = Net::SMPP::pdu_tab->{$command_id};
    return $known ? $known->{cmd} : sprintf('unknown_0x%08x', $command_id);
}

sub tlvs_of {
    my ($pdu) = @_;
    return { map { ($_ => unpack('H*', $pdu->{$_})) } grep { /^\d+$/ } keys %$pdu };
}

# The fields of a submit_sm or deliver_sm, as the log and the submit records name them.
sub message_fields {
    my ($pdu) = @_;
    return (
        sourceAddr => $pdu->{source_addr} // '', sourceAddrTon => $pdu->{source_addr_ton} // 0, sourceAddrNpi => $pdu->{source_addr_npi} // 0,
        destinationAddr => $pdu->{destination_addr} // '', destAddrTon => $pdu->{dest_addr_ton} // 0, destAddrNpi => $pdu->{dest_addr_npi} // 0,
        esmClass => $pdu->{esm_class} // 0, dataCoding => $pdu->{data_coding} // 0, registeredDelivery => $pdu->{registered_delivery} // 0,
        shortMessage => unpack('H*', $pdu->{short_message} // ''), tlvs => tlvs_of($pdu),
    );
}

sub log_pdu {
    my ($state, $direction, $pdu, $at, $fields) = @_;
    my $name = command_name($pdu->{cmd});
    my %line = (type => 'pdu', connection => $state->{number}, direction => $direction, command => $name, sequence => $pdu->{seq}, status => $pdu->{status}, at => $at);
    if ($fields || $name eq 'submit_sm' || $name eq 'deliver_sm' || $name eq 'data_sm') { %line = (%line, %{ $fields // { message_fields($pdu) } }) }
    elsif ($name =~ /^bind_/) { $line{systemId} = $pdu->{system_id} // '' }
    elsif (defined $pdu->{message_id} && $name =~ /^(submit_sm|deliver_sm|data_sm)_resp$/) { $line{messageId} = $pdu->{message_id} }
    log_line(\%line);
}

# Every PDU Net::SMPP writes for a connection comes here (SmscConnection::syswrite): logged, as
# Net::SMPP itself decodes it, and queued for the socket.
sub sent {
    my ($state, $bytes) = @_;
    my ($length, $command_id, $status, $sequence) = unpack 'NNNN', $bytes;
    my $pdu = { cmd => $command_id, status => $status, seq => $sequence, data => substr($bytes, 16) };
    if (my $known = Net::SMPP::pdu_tab->{$command_id}) {
        my $mandatory = $known->{decode}->($pdu, $state->{socket});
        Net::SMPP::decode_optional_params($pdu, $mandatory) if $mandatory < length $pdu->{data};
    }
    log_pdu($state, 'out', $pdu, now_ms());
    $state->{out} .= $bytes;
}

# ---- answering ----

# An answer with an empty body (what SMPP 3.4 sends for a refused request, and the whole of an
# enquire_link_resp or unbind_resp); Net::SMPP's submit_sm_resp would always add a message_id.
sub answer_empty {
    my ($state, $command_id, $sequence, $status) = @_;
    $state->{socket}->resp_backend($command_id, '', $state->{socket}, seq => $sequence, status => $status);
}

sub nack {
    my ($state, $pdu, $status) = @_;
    $state->{socket}->generic_nack(seq => $pdu->{seq}, status => $status);
}

sub next_message_id {
    my $id = $message_counter++;
    return $config{messageIds} eq 'hex' ? sprintf('%X', $id) : "$id";
}

# A TLV for Net::SMPP to write as the raw octets given: it knows tags only by name (a numeric tag
# it writes as an integer), so every tag sent gets a name of its own.
sub tlv_name {
    my ($tag) = @_;
    $Net::SMPP::param_by_name{"tlv_$tag"} = $tag;
    return "tlv_$tag";
}

sub tlv_arguments {
    my ($tlvs) = @_;
    return map { (tlv_name($_) => $tlvs->{$_}) } sort { $a <=> $b } keys %$tlvs;
}

sub receiver_capable { my ($state) = @_; return $state->{bound} && $state->{bound} ne 'transmitter' }

# ---- receipts ----

# The part this submit is of a concatenated message, as [seq, total], or undef for a whole message.
sub part_of {
    my ($pdu) = @_;
    my $message = $pdu->{short_message} // '';
    if ((($pdu->{esm_class} // 0) & 0x40) && length $message) {
        my $header = substr($message, 1, ord $message);
        my $at = 0;
        while ($at + 2 <= length $header) {
            my ($element, $size) = unpack 'CC', substr($header, $at, 2);
            my $value = substr($header, $at + 2, $size);
            return [(unpack 'xCC', $value)[1, 0]] if $element == 0x00 && $size == 3;
            return [(unpack 'xxCC', $value)[1, 0]] if $element == 0x08 && $size == 4;
            $at += 2 + $size;
        }
    }
    return [ord $pdu->{0x020F}, ord $pdu->{0x020E}] if defined $pdu->{0x020E} && defined $pdu->{0x020F};
    return undef;
}

sub receipt_text {
    my ($pdu) = @_;
    my $message = length($pdu->{short_message} // '') ? $pdu->{short_message} : $pdu->{0x0424} // '';
    $message = substr($message, 1 + ord $message) if (($pdu->{esm_class} // 0) & 0x40) && length $message;
    $message = eval { decode('UTF-16BE', $message) } // '' if ($pdu->{data_coding} // 0) == 8;
    (my $text = substr($message, 0, 20)) =~ s/[^\x20-\x7E]/?/g;
    return $text;
}

# YYMMDDhhmm, local time; the last minute's is kept (strftime is a good part of a receipt's cost).
my ($receipt_minute, $receipt_minute_text) = (-1, '');
sub receipt_date {
    my $minute = int($_[0] / 60);
    ($receipt_minute, $receipt_minute_text) = ($minute, strftime('%y%m%d%H%M', localtime($minute * 60))) if $minute != $receipt_minute;
    return $receipt_minute_text;
}

sub build_receipt {
    my ($submit, $record, $message_id) = @_;
    my $settings = $config{receipts};
    my $stat = $settings->{stat};
    my $text_id = $settings->{idBase} eq 'decimal' && $config{messageIds} eq 'hex' ? hex($message_id) : $message_id;
    my $text = sprintf('id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%s err:000 text:%s',
        $text_id, $stat eq 'DELIVRD' ? '001' : '000', receipt_date($record->{at} / 1000), receipt_date(time()), $stat, receipt_text($submit));
    my @tlvs = $settings->{form} eq 'tlv'
        ? tlv_arguments({ 0x001E => "$message_id\0", 0x0427 => chr($MESSAGE_STATE{$stat} // $MESSAGE_STATE{UNKNOWN}) })
        : ();
    return [
        source_addr_ton => $submit->{dest_addr_ton}, source_addr_npi => $submit->{dest_addr_npi}, source_addr => $submit->{destination_addr},
        dest_addr_ton => $submit->{source_addr_ton}, dest_addr_npi => $submit->{source_addr_npi}, destination_addr => $submit->{source_addr},
        esm_class => 0x04, data_coding => 0, short_message => $text, @tlvs,
    ];
}

# To the submitting connection when it can receive, else round robin over the receiver-capable
# connections of its system_id; kept until one binds when there is none.
sub send_receipt {
    my ($from, $receipt) = @_;
    my $to = receiver_capable($from) ? $from : pick_receiver($from->{systemId});
    if ($to) { $to->{socket}->deliver_sm(async => 1, @$receipt) }
    else { push @{ $waiting_receipts{ $from->{systemId} } }, $receipt }
}

sub pick_receiver {
    my ($system_id) = @_;
    my @candidates = grep { receiver_capable($_) && (!defined $system_id || $_->{systemId} eq $system_id) } map { $connections{$_} } sort { $a <=> $b } keys %connections;
    return undef unless @candidates;
    return $candidates[$round_robin++ % @candidates];
}

# ---- submit_sm ----

sub record_submit {
    my ($state, $pdu, $at, $fields) = @_;
    my $record = { connection => $state->{number}, sequence => $pdu->{seq}, systemId => $state->{systemId} // '', %$fields, messageId => undef, status => undef, at => $at };
    push @submits, $record;
    return $record;
}

# Counts a submit_sm read toward dropAfter; true when this one is the n-th: everything closes.
sub drop_due {
    return 0 unless defined $fault{drop_after};
    return 0 if --$fault{drop_after} > 0;
    $fault{drop_after} = undef;
    drop_all();
    return 1;
}

sub take_submit {
    my ($state, $pdu, $record) = @_;
    my $status = time() < $fault{throttle_until} ? $fault{throttle_status} : ESME_ROK;
    $state->{outstanding}++;
    $state->{max_outstanding} = $state->{outstanding} if $state->{outstanding} > $state->{max_outstanding};
    my $answer = sub { answer_submit($state, $pdu, $record, $status) };
    if ($fault{slow_ms} > 0) { add_timer(time() + $fault{slow_ms} / 1000, $answer) }
    else { $answer->() }
}

sub answer_submit {
    my ($state, $pdu, $record, $status) = @_;
    return if $state->{closed};    # dropped: the submit stays unanswered
    $state->{outstanding}--;
    return if silent();
    $record->{status} = $status;
    if ($status != ESME_ROK) {
        answer_empty($state, Net::SMPP::CMD_submit_sm_resp, $pdu->{seq}, $status);
        return;
    }
    my $message_id = $record->{messageId} = next_message_id();
    my $settings = $config{receipts};
    my $part = part_of($pdu);
    my $receipt = ($pdu->{registered_delivery} // 0) & 1 && $settings->{when} ne 'none' && !($settings->{onlyLastPart} && $part && $part->[0] != $part->[1])
        ? build_receipt($pdu, $record, $message_id)
        : undef;
    send_receipt($state, $receipt) if $receipt && $settings->{when} eq 'before';
    $state->{socket}->submit_sm_resp(seq => $pdu->{seq}, message_id => $message_id);
    send_receipt($state, $receipt) if $receipt && $settings->{when} eq 'after';
}

# ---- binds ----

sub take_bind {
    my ($state, $pdu, $name, $at) = @_;
    my $system_id = $pdu->{system_id} // '';
    my ($account) = grep { $_->{systemId} eq $system_id } @{ $config{accounts} };
    my $status = $state->{bound} ? ESME_RALYBND
        : !$account ? ESME_RINVSYSID
        : $account->{password} ne ($pdu->{password} // '') ? ESME_RINVPASWD
        : ESME_ROK;
    push @binds, { connection => $state->{number}, command => $name, systemId => $system_id, status => $status, at => $at };
    my $method = "${name}_resp";
    $state->{socket}->$method(seq => $pdu->{seq}, status => $status, system_id => 'NetSMPP');
    return if $status != ESME_ROK;
    $state->{bound} = $BIND_AS{$name};
    $state->{systemId} = $system_id;
    if (receiver_capable($state) && (my $waiting = delete $waiting_receipts{$system_id})) {
        $state->{socket}->deliver_sm(async => 1, @$_) for @$waiting;
    }
}

# ---- one PDU read ----

sub take_pdu {
    my ($state, $pdu) = @_;
    my $at = now_ms();
    my $name = command_name($pdu->{cmd});
    my $fields = $name eq 'submit_sm' ? { message_fields($pdu) } : undef;
    log_pdu($state, 'in', $pdu, $at, $fields);
    return take_response($state, $pdu, $name) if $pdu->{cmd} & 0x80000000;
    my $record = $fields ? record_submit($state, $pdu, $at, $fields) : undef;
    return if $record && drop_due();
    return if silent();
    if ($fault{nack_next} || !$pdu->{known_pdu}) {
        $fault{nack_next} = 0 if $pdu->{known_pdu};
        $record->{status} = ESME_RINVCMDID if $record;
        return nack($state, $pdu, ESME_RINVCMDID);
    }
    return take_bind($state, $pdu, $name, $at) if $BIND_AS{$name};
    if (!$state->{bound} || ($name eq 'submit_sm' && $state->{bound} eq 'receiver')) {
        $record->{status} = ESME_RINVBNDSTS if $record;
        return answer_empty($state, $pdu->{cmd} | 0x80000000, $pdu->{seq}, ESME_RINVBNDSTS);
    }
    return $state->{socket}->enquire_link_resp(seq => $pdu->{seq}) if $name eq 'enquire_link';
    if ($name eq 'unbind') {
        $state->{socket}->unbind_resp(seq => $pdu->{seq});
        $state->{bound} = undef;
        $state->{close_when_written} = 1;
        return;
    }
    return take_submit($state, $pdu, $record) if $record;
    nack($state, $pdu, ESME_RINVCMDID);    # data_sm, query_sm, ...: not served here
}

sub take_response {
    my ($state, $pdu, $name) = @_;
    my $request = delete $state->{requests}{ $pdu->{seq} } or return;
    if ($request->{kind} eq 'deliver') {
        $request->{done} = 1;
        control_answer($request->{control}, $request->{id}, { status => $pdu->{status} });
    }
    elsif ($request->{kind} eq 'unbind') {
        $state->{bound} = undef;
        $state->{close_when_written} = 1;
    }
}

# ---- SMPP connections ----

sub accept_smpp {
    while (my $socket = $listener->accept) {
        $socket->blocking(0);
        setsockopt($socket, IPPROTO_TCP, TCP_NODELAY, 1);    # each answer goes out as soon as it is written
        ${*$socket}{async} = 1;
        my $state = { number => ++$last_connection, socket => $socket, in => '', out => '', bound => undef, systemId => undef, outstanding => 0, max_outstanding => 0, requests => {} };
        ${*$socket}{smsc} = $state;
        $connections{ $state->{number} } = $state;
        $readers->add($socket);
        log_line({ type => 'open', connection => $state->{number}, at => now_ms() });
    }
}

sub read_smpp {
    my ($state) = @_;
    my $count = CORE::sysread($state->{socket}, my $chunk, 262144);
    if (!defined $count) { return if $!{EAGAIN} || $!{EINTR}; return close_connection($state) }
    return close_connection($state) if $count == 0;
    $state->{in} .= $chunk;
    while (length($state->{in}) >= 16 && !$state->{closed}) {
        my $length = unpack 'N', $state->{in};
        return close_connection($state) if $length < 16 || $length > MAX_PDU;
        last if length($state->{in}) < $length;
        my $pdu = $state->{socket}->read_pdu or return close_connection($state);
        take_pdu($state, $pdu);
    }
}

# Writes what the socket takes now; true while something is left.
sub write_out {
    my ($state) = @_;
    while (length $state->{out}) {
        my $written = CORE::syswrite($state->{socket}, $state->{out});
        if (!defined $written) { return 1 if $!{EAGAIN} || $!{EINTR}; close_connection($state); return 0 }
        substr($state->{out}, 0, $written, '');
    }
    close_connection($state) if $state->{close_when_written};
    return 0;
}

sub close_connection {
    my ($state) = @_;
    return if $state->{closed};
    $state->{closed} = 1;
    $readers->remove($state->{socket});
    close $state->{socket};
    delete $connections{ $state->{number} };
    $closed_max_outstanding{ $state->{number} } = $state->{max_outstanding};
    for my $request (values %{ $state->{requests} }) {
        next unless $request->{kind} eq 'deliver';
        $request->{done} = 1;
        control_fail($request->{control}, $request->{id}, "connection $state->{number} closed before its deliver_sm_resp");
    }
    log_line({ type => 'close', connection => $state->{number}, at => now_ms() });
}

# Closes every SMPP connection at once: what is already answered goes out if the socket takes it
# right away; submits not answered yet stay unanswered.
sub drop_all {
    for my $state (values %connections) {
        write_out($state);
        close_connection($state);
    }
}

# ---- the control port ----

# The most submits outstanding at once on one connection (or on any, without one), closed ones too.
sub max_outstanding {
    my ($of) = @_;
    my %max = (%closed_max_outstanding, map { ($_->{number} => $_->{max_outstanding}) } values %connections);
    return $max{$of} // 0 if defined $of;
    my $most = 0;
    for (values %max) { $most = $_ if $_ > $most }
    return $most;
}


sub control_send {
    my ($control, $answer) = @_;
    return if $control->{closed};
    $control->{out} .= to_json($answer) . "\n";
}
sub control_answer { my ($control, $id, $result) = @_; control_send($control, { id => $id, ok => \1, result => $result }) }
sub control_fail { my ($control, $id, $error) = @_; chomp $error; control_send($control, { id => $id, ok => \0, error => $error }) }

sub milliseconds {
    my ($value, $what) = @_;
    die "$what must be a number of milliseconds\n" unless defined $value && $value =~ /^\d+(\.\d+)?$/;
    return $value;
}

sub send_to_bound {
    my ($method, $kind) = @_;
    my $count = 0;
    for my $state (grep { $_->{bound} } values %connections) {
        my $sequence = $state->{socket}->$method(async => 1);
        $state->{requests}{$sequence} = { kind => $kind };
        $count++;
    }
    return { sent => $count };
}

# Each command: (its JSON arguments, the control connection, the request id) => its result, or
# undef when it answers later itself (deliver).
my %commands = (
    configure => sub { configure($_[0]{options} // {}); return {} },
    throttle  => sub {
        my ($arguments) = @_;
        $fault{throttle_until} = time() + milliseconds($arguments->{ms}, 'ms') / 1000;
        $fault{throttle_status} = $arguments->{status} // ESME_RTHROTTLED;
        return {};
    },
    slow      => sub { $fault{slow_ms} = milliseconds($_[0]{ms}, 'ms'); return {} },
    silent    => sub { $fault{silent_until} = time() + milliseconds($_[0]{ms}, 'ms') / 1000; return {} },
    dropAfter => sub {
        my $n = $_[0]{submits};
        die "submits must be a whole number above 0\n" unless defined $n && $n =~ /^\d+$/ && $n > 0;
        $fault{drop_after} = $n;
        return {};
    },
    drop      => sub { drop_all(); return {} },
    nackNext  => sub { $fault{nack_next} = 1; return {} },
    deliver   => sub {
        my ($arguments, $control, $id) = @_;
        my $state = pick_receiver($arguments->{systemId}) or die "no receiver-capable connection is bound\n";
        my $message = pack 'H*', $arguments->{shortMessage} // '';
        die "shortMessage is longer than 254 octets: send it in message_payload (TLV 0x0424)\n" if length $message > 254;
        my %tlvs = map { ($_ => pack('H*', $arguments->{tlvs}{$_})) } keys %{ $arguments->{tlvs} // {} };
        my $sequence = $state->{socket}->deliver_sm(
            async => 1,
            source_addr_ton => $arguments->{sourceAddrTon} // 1, source_addr_npi => $arguments->{sourceAddrNpi} // 1, source_addr => $arguments->{source} // '',
            dest_addr_ton => $arguments->{destAddrTon} // 0, dest_addr_npi => $arguments->{destAddrNpi} // 0, destination_addr => $arguments->{destination} // '',
            esm_class => $arguments->{esmClass} // 0, data_coding => $arguments->{dataCoding} // 0, short_message => $message,
            tlv_arguments(\%tlvs),
        );
        my $request = $state->{requests}{$sequence} = { kind => 'deliver', control => $control, id => $id };
        add_timer(time() + DELIVER_TIMEOUT, sub {
            return if $request->{done};
            delete $state->{requests}{$sequence};
            control_answer($control, $id, { status => 'timeout' });
        });
        return undef;
    },
    enquireLink    => sub { send_to_bound('enquire_link', 'enquire_link') },
    unbindAll      => sub { send_to_bound('unbind', 'unbind') },
    submits        => sub { \@submits },
    binds          => sub { \@binds },
    connections    => sub { [map { { connection => $_->{number}, bound => $_->{bound}, systemId => $_->{systemId} } } sort { $a->{number} <=> $b->{number} } values %connections] },
    maxOutstanding => sub { max_outstanding($_[0]{connection}) },
    sync => sub { $log->flush; return {} },
);

sub take_control_line {
    my ($control, $line) = @_;
    my $request = eval { $json->decode($line) };
    return control_fail($control, undef, "not JSON: $line") unless ref $request eq 'HASH';
    my $id = $request->{id};
    my $command = $commands{ $request->{op} // '' } or return control_fail($control, $id, 'unknown op "' . ($request->{op} // '') . '"');
    my $result = eval { $command->($request, $control, $id) };
    return control_fail($control, $id, $@) if $@;
    control_answer($control, $id, $result) if defined $result;
}

sub accept_control {
    while (my $socket = $control_listener->accept) {
        $socket->blocking(0);
        $controls{ fileno $socket } = { socket => $socket, in => '', out => '' };
        $readers->add($socket);
    }
}

sub read_control {
    my ($control) = @_;
    my $count = CORE::sysread($control->{socket}, my $chunk, 65536);
    return if !defined $count && ($!{EAGAIN} || $!{EINTR});
    if (!$count) {
        $control->{closed} = 1;
        $readers->remove($control->{socket});
        delete $controls{ fileno $control->{socket} };
        close $control->{socket};
        return;
    }
    $control->{in} .= $chunk;
    while ($control->{in} =~ s/^([^\n]*)\n//) {
        take_control_line($control, $1) if length $1;
    }
}

sub write_control {
    my ($control) = @_;
    while (length $control->{out}) {
        my $written = CORE::syswrite($control->{socket}, $control->{out});
        return 1 if !defined $written;
        substr($control->{out}, 0, $written, '');
    }
    return 0;
}

# ---- the loop ----

$| = 1;
print "READY\n";
while ($running) {
    my $writers = IO::Select->new;
    for my $state (values %connections) {
        $writers->add($state->{socket}) if (length $state->{out} || $state->{close_when_written}) && write_out($state);
    }
    for my $control (values %controls) { $writers->add($control->{socket}) if length $control->{out} && write_control($control) }
    $log->flush;
    my $timeout = @timers ? $timers[0][0] - time() : 1;
    $timeout = 0 if $timeout < 0;
    my ($readable) = IO::Select->select($readers, $writers->count ? $writers : undef, undef, $timeout);
    for my $handle (@{ $readable // [] }) {
        if ($handle == $listener) { accept_smpp() }
        elsif ($handle == $control_listener) { accept_control() }
        elsif ($handle == \*STDIN) { $running = 0 unless sysread(STDIN, my $ignored, 4096) }
        elsif (my $control = $controls{ fileno $handle }) { read_control($control) }
        elsif (my $state = ${*$handle}{smsc}) { read_smpp($state) unless $state->{closed} }
    }
    while (@timers && $timers[0][0] <= time()) { (shift @timers)->[1]->() }
}
$log->flush;
exit 0;
