# The `basic` fixture: apps, config changes, a deploy, releases and a
# rollback, as a user would make them. Run by tests/journals/record.sh.
dyno apps:create demo-app
dyno apps:create
dyno config:set GREETING=hello 'MOTD=two words' -a demo-app
dyno config:set COLOR=blue -a demo-app
dyno config:unset GREETING -a demo-app
dyno deploy "$EXAMPLES/shell-app" -a demo-app
dyno config:set GREETING=again -a demo-app
dyno rollback -a demo-app
dyno rollback v2 -a demo-app
dyno apps:create short-lived
dyno config:set X=1 -a short-lived
dyno apps:destroy -a short-lived --confirm short-lived
dyno releases -a demo-app
