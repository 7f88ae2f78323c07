import socketio, time, cProfile, pstats

def test_spike(live_server, make_case):
    case = make_case()
    tok = case.token("buyer")
    c = socketio.Client(reconnection=False)
    c.connect(live_server.url, transports=["websocket"], namespaces=["/cases"], auth={"token": tok}, wait_timeout=5)
    ws = c.eio.ws
    orig = ws.close
    def close(*a, **k):
        t = time.time(); orig(*a, **k); print("ws.close", time.time() - t)
    ws.close = close
    t=time.time()
    c.disconnect()
    print("disc", time.time()-t)
