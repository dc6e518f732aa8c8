# fish completion for weave: generated from its oclif commands by `npm run completions`; do not edit.
# Install: copy to ~/.config/fish/completions/weave.fish

function __weave_subcommands --description 'The subcommands that may follow the command path $argv[1]'
    switch $argv[1]
        case weave
            printf '%s\n' attach completion connect detach dns-add dns-lookup dns-remove expose forget help hide launch prime ps report reset rmpeer setup status stop version
    end
end

function __weave_value_flags --description 'The flags of the command path $argv[1] that take a value'
    switch $argv[1]
        case weave:attach
            printf '%s\n' --add-host --http-addr
        case weave:connect
            printf '%s\n' --http-addr
        case weave:detach
            printf '%s\n' --http-addr
        case weave:dns-add
            printf '%s\n' --fqdn -h --http-addr
        case weave:dns-lookup
            printf '%s\n' --http-addr
        case weave:dns-remove
            printf '%s\n' --fqdn -h --http-addr
        case weave:expose
            printf '%s\n' --http-addr
        case weave:forget
            printf '%s\n' --http-addr
        case weave:hide
            printf '%s\n' --http-addr
        case weave:launch
            printf '%s\n' --http-addr --image --ipalloc-range --iprange --log-level --password --port
        case weave:prime
            printf '%s\n' --http-addr
        case weave:ps
            printf '%s\n' --http-addr --weave-bridge
        case weave:report
            printf '%s\n' --format -f --http-addr
        case weave:reset
            printf '%s\n' --http-addr
        case weave:rmpeer
            printf '%s\n' --http-addr
        case weave:setup
            printf '%s\n' --cni-bin-dir --cni-conf-dir --cni-version --image
        case weave:status
            printf '%s\n' --http-addr --interval
        case weave:stop
            printf '%s\n' --http-addr
        case weave:version
            printf '%s\n' --http-addr
    end
end

function __weave_state --description 'Print the command path typed so far, then how many positional arguments follow it'
    set -l tokens (commandline -opc)
    set -l path weave
    set -l i 2
    while test $i -le (count $tokens); and contains -- $tokens[$i] (__weave_subcommands $path)
        set path $path:$tokens[$i]
        set i (math $i + 1)
    end
    set -l value_flags (__weave_value_flags $path)
    set -l n 0
    while test $i -le (count $tokens)
        if string match -q -- '-*' $tokens[$i]
            # "--flag value" skips the value too; "--flag=value" is one token.
            contains -- $tokens[$i] $value_flags; and set i (math $i + 1)
        else
            set n (math $n + 1)
        end
        set i (math $i + 1)
    end
    printf '%s\n' $path $n
end

function __weave_at --description 'Is the command path typed so far $argv[1]?'
    set -l state (__weave_state)
    test "$state[1]" = "$argv[1]"
end

function __weave_arg --description 'Is the cursor on positional argument $argv[2] (from 0) of the command path $argv[1]?'
    set -l state (__weave_state)
    test "$state[1]" = "$argv[1]"; and test "$state[2]" -eq "$argv[2]"
end

function __weave_arg_from --description 'Is the cursor on positional argument $argv[2] (from 0) or a later one of the command path $argv[1]?'
    set -l state (__weave_state)
    test "$state[1]" = "$argv[1]"; and test "$state[2]" -ge "$argv[2]"
end

# Nothing but what is listed below: free-form flag values ask for file names themselves.
complete -c weave -f

# weave
complete -c weave -n '__weave_arg weave 0' -a attach -d 'Put a running Docker container on the weave network'
complete -c weave -n '__weave_arg weave 0' -a completion -d 'Print the shell completion script for bash, zsh or fish'
complete -c weave -n '__weave_arg weave 0' -a connect -d 'Add peers for the router to connect to (its targets)'
complete -c weave -n '__weave_arg weave 0' -a detach -d 'Take a Docker container off the weave network again (undo attach)'
complete -c weave -n '__weave_arg weave 0' -a dns-add -d 'Give addresses a name in weaveDNS, answered on every host'
complete -c weave -n '__weave_arg weave 0' -a dns-lookup -d 'Ask weaveDNS for the addresses of a name'
complete -c weave -n '__weave_arg weave 0' -a dns-remove -d 'Take names out of weaveDNS again'
complete -c weave -n '__weave_arg weave 0' -a expose -d 'Give the host an address on the weave network, so it reaches the pods'
complete -c weave -n '__weave_arg weave 0' -a forget -d 'Remove peers from the router\'s targets'
complete -c weave -n '__weave_arg weave 0' -a help -d 'Show the help of weave, or of one of its commands'
complete -c weave -n '__weave_arg weave 0' -a hide -d 'Take the host\'s addresses off the weave network again (undo expose)'
complete -c weave -n '__weave_arg weave 0' -a launch -d 'Start the weave router in a Docker container, connecting to the peers given'
complete -c weave -n '__weave_arg weave 0' -a prime -d 'Wait until IPAM can hand out addresses (the address ring exists)'
complete -c weave -n '__weave_arg weave 0' -a ps -d 'List what is attached to the weave bridge: id, MAC and addresses'
complete -c weave -n '__weave_arg weave 0' -a report -d 'Print everything the router knows, as JSON, or through a Go template'
complete -c weave -n '__weave_arg weave 0' -a reset -d 'Remove the weave router, its state, the weave bridge and its iptables rules from this host'
complete -c weave -n '__weave_arg weave 0' -a rmpeer -d 'Take over the addresses of peers that are gone for good'
complete -c weave -n '__weave_arg weave 0' -a setup -d 'Install the weave CNI plugin and network config, and make sure the router image exists'
complete -c weave -n '__weave_arg weave 0' -a status -d 'Show the router\'s status: version, peers, connections, IPAM and DNS, or one of them'
complete -c weave -n '__weave_arg weave 0' -a stop -d 'Stop the weave router container'
complete -c weave -n '__weave_arg weave 0' -a version -d 'Print the version of weave, and of the router when one answers'
complete -c weave -n '__weave_at weave' -l help -d 'Show help for weave'
complete -c weave -n '__weave_at weave' -l version -d 'Show the version of weave'

# weave attach
complete -c weave -n '__weave_at weave:attach' -l add-host -r -F -d 'An extra /etc/hosts entry <name>:<ip> for --rewrite-hosts (repeatable)'
complete -c weave -n '__weave_at weave:attach' -l help -d 'Show help for weave attach'
complete -c weave -n '__weave_at weave:attach' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'
complete -c weave -n '__weave_at weave:attach' -l no-color -d 'Print without colours (as does NO_COLOR=1)'
complete -c weave -n '__weave_at weave:attach' -l no-multicast-route -d 'Do not route multicast (224.0.0.0/4) through the weave interface'
complete -c weave -n '__weave_at weave:attach' -l rewrite-hosts -d 'Rewrite the container\'s /etc/hosts with its weave addresses'
complete -c weave -n '__weave_at weave:attach' -l without-dns -d 'Do not register the container in weaveDNS'

# weave completion
complete -c weave -n '__weave_at weave:completion' -l help -d 'Show help for weave completion'
complete -c weave -n '__weave_arg weave:completion 0' -a 'bash zsh fish' -d 'The shell to complete in'

# weave connect
complete -c weave -n '__weave_at weave:connect' -l help -d 'Show help for weave connect'
complete -c weave -n '__weave_at weave:connect' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'
complete -c weave -n '__weave_at weave:connect' -l replace -d 'Replace all targets with the peers given (none: forget them all)'

# weave detach
complete -c weave -n '__weave_at weave:detach' -l help -d 'Show help for weave detach'
complete -c weave -n '__weave_at weave:detach' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'
complete -c weave -n '__weave_at weave:detach' -l no-color -d 'Print without colours (as does NO_COLOR=1)'

# weave dns-add
complete -c weave -n '__weave_at weave:dns-add' -l fqdn -s h -r -F -d 'Fully qualified name, e.g. web.weave.local'
complete -c weave -n '__weave_at weave:dns-add' -l help -d 'Show help for weave dns-add'
complete -c weave -n '__weave_at weave:dns-add' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'

# weave dns-lookup
complete -c weave -n '__weave_at weave:dns-lookup' -l help -d 'Show help for weave dns-lookup'
complete -c weave -n '__weave_at weave:dns-lookup' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'

# weave dns-remove
complete -c weave -n '__weave_at weave:dns-remove' -l fqdn -s h -r -F -d 'Only this name, e.g. web.weave.local'
complete -c weave -n '__weave_at weave:dns-remove' -l help -d 'Show help for weave dns-remove'
complete -c weave -n '__weave_at weave:dns-remove' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'

# weave expose
complete -c weave -n '__weave_at weave:expose' -l help -d 'Show help for weave expose'
complete -c weave -n '__weave_at weave:expose' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'
complete -c weave -n '__weave_at weave:expose' -l without-masquerade -d 'Do not masquerade traffic between the host and the weave network'

# weave forget
complete -c weave -n '__weave_at weave:forget' -l help -d 'Show help for weave forget'
complete -c weave -n '__weave_at weave:forget' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'

# weave help
complete -c weave -n '__weave_at weave:help' -l help -d 'Show help for weave help'

# weave hide
complete -c weave -n '__weave_at weave:hide' -l help -d 'Show help for weave hide'
complete -c weave -n '__weave_at weave:hide' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'

# weave launch
complete -c weave -n '__weave_at weave:launch' -l help -d 'Show help for weave launch'
complete -c weave -n '__weave_at weave:launch' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'
complete -c weave -n '__weave_at weave:launch' -l image -r -F -d 'Router image [default: $WEAVE_IMAGE, else weave-net:<version>, built locally]'
complete -c weave -n '__weave_at weave:launch' -l ipalloc-range -l iprange -r -F -d 'IP range all peers allocate from; "" disables IPAM [default: 10.32.0.0/12]'
complete -c weave -n '__weave_at weave:launch' -l log-level -x -a 'debug info warning error' -d 'The router\'s log level [default: info]'
complete -c weave -n '__weave_at weave:launch' -l no-color -d 'Print without colours (as does NO_COLOR=1)'
complete -c weave -n '__weave_at weave:launch' -l no-restart -d 'Do not let Docker restart the router (restart policy "no" instead of "always")'
complete -c weave -n '__weave_at weave:launch' -l password -r -F -d 'Encrypt the traffic between peers with this password [default: $WEAVE_PASSWORD]'
complete -c weave -n '__weave_at weave:launch' -l port -r -F -d 'TCP port of the peer mesh [default: $WEAVE_PORT, else 6783]'

# weave prime
complete -c weave -n '__weave_at weave:prime' -l help -d 'Show help for weave prime'
complete -c weave -n '__weave_at weave:prime' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'

# weave ps
complete -c weave -n '__weave_at weave:ps' -l help -d 'Show help for weave ps'
complete -c weave -n '__weave_at weave:ps' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'
complete -c weave -n '__weave_at weave:ps' -l json -d 'Print a JSON array of {id, mac, cidrs} instead of text'
complete -c weave -n '__weave_at weave:ps' -l weave-bridge -r -F -d 'Name of the weave bridge'

# weave report
complete -c weave -n '__weave_at weave:report' -l format -s f -r -F -d 'Go template to run over the report instead of printing its JSON'
complete -c weave -n '__weave_at weave:report' -l help -d 'Show help for weave report'
complete -c weave -n '__weave_at weave:report' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'
complete -c weave -n '__weave_at weave:report' -l json -d 'Print the report as JSON (the default)'

# weave reset
complete -c weave -n '__weave_at weave:reset' -l force -d 'Reset even when the router exists but is stopped (its address ranges are not handed over); do not ask'
complete -c weave -n '__weave_at weave:reset' -l help -d 'Show help for weave reset'
complete -c weave -n '__weave_at weave:reset' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'
complete -c weave -n '__weave_at weave:reset' -l no-color -d 'Print without colours (as does NO_COLOR=1)'
complete -c weave -n '__weave_at weave:reset' -l yes -s y -d 'Do not ask for confirmation'

# weave rmpeer
complete -c weave -n '__weave_at weave:rmpeer' -l help -d 'Show help for weave rmpeer'
complete -c weave -n '__weave_at weave:rmpeer' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'

# weave setup
complete -c weave -n '__weave_at weave:setup' -l cni-bin-dir -r -F -d 'CNI plugin directory [default: $WEAVE_CNI_PLUGIN_DIR, else /opt/cni/bin]'
complete -c weave -n '__weave_at weave:setup' -l cni-conf-dir -r -F -d 'CNI network config directory [default: $WEAVE_CNI_CONF_DIR, else /etc/cni/net.d]'
complete -c weave -n '__weave_at weave:setup' -l cni-version -x -a '0.3.0 0.3.1 0.4.0 1.0.0 1.1.0' -d 'cniVersion for a new 10-weave.conflist [default: 0.4.0, listing 0.4.0, 1.0.0 and 1.1.0 in "cniVersions"]'
complete -c weave -n '__weave_at weave:setup' -l help -d 'Show help for weave setup'
complete -c weave -n '__weave_at weave:setup' -l image -r -F -d 'Router image [default: $WEAVE_IMAGE, else weave-net:<version>, built locally]'
complete -c weave -n '__weave_at weave:setup' -l no-color -d 'Print without colours (as does NO_COLOR=1)'

# weave status
complete -c weave -n '__weave_at weave:status' -l help -d 'Show help for weave status'
complete -c weave -n '__weave_at weave:status' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'
complete -c weave -n '__weave_at weave:status' -l interval -r -F -d 'Time between refreshes of --watch: 2s, 500ms, 1m, or seconds [default: 2s]'
complete -c weave -n '__weave_at weave:status' -l json -d 'Print the JSON of the report the page is drawn from, instead of text (even before the router is ready: see "Ready")'
complete -c weave -n '__weave_at weave:status' -l watch -s w -d 'Refresh until Ctrl-C: in place on a terminal, else one refresh after another'
complete -c weave -n '__weave_arg_from weave:status 0' -a 'targets connections peers dns ipam' -d 'targets | connections | peers | dns | ipam'

# weave stop
complete -c weave -n '__weave_at weave:stop' -l help -d 'Show help for weave stop'
complete -c weave -n '__weave_at weave:stop' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'
complete -c weave -n '__weave_at weave:stop' -l no-color -d 'Print without colours (as does NO_COLOR=1)'

# weave version
complete -c weave -n '__weave_at weave:version' -l help -d 'Show help for weave version'
complete -c weave -n '__weave_at weave:version' -l http-addr -r -F -d 'Address of the router\'s HTTP API: host:port or a unix socket path'
complete -c weave -n '__weave_at weave:version' -l json -d 'Print {"script": <version>, "router": <version, or null when no router answers>} instead of text'
