"""gunicorn settings shared by every way the site is served from this folder (scripts/run,
scripts/cluster, the benchmark): gunicorn reads ./gunicorn.conf.py on its own."""

# gunicorn's control socket defaults to one path per machine user (~/.gunicorn/gunicorn.ctl),
# so several instances (cluster nodes, benchmark instances, a second checkout) would share
# it and one's exit removes another's. Nothing here uses the control interface.
control_socket_disable = True
