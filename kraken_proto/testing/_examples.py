"""Every frame the protocol docs show, as Kraken sends it: the seeds of fuzzing and mutation.

``V1_EXAMPLES`` holds the v1 private API doc's frames (sections 1-8) and the seed page's (some
pretty-printed, as published), plus frames from elsewhere that a v1 client must survive (a REST
token answer, v2 frames). ``V2_EXAMPLES`` holds every example frame of the WebSocket v2 doc;
frames it gives only in prose are written from that prose and say so. Each entry is
``(description, frame text)``; the descriptions are unique. The test suite pairs each frame
with the event ``decode`` must return.
"""

from __future__ import annotations

__all__ = ["V1_EXAMPLES", "V1_EXAMPLE_FRAMES", "V2_EXAMPLES", "V2_EXAMPLE_FRAMES"]

V1_EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        "pong",
        '{"event":"pong","reqid":42}',
    ),
    (
        "pong without reqid",
        '{"event":"pong"}',
    ),
    (
        "pingStatus error echoing a string reqid",
        '{"errorMessage":"Reqid field must be a positive integer less than 184467440737095516'
        '16","event":"pingStatus","reqid":"a","status":"error"}',
    ),
    (
        "error",
        '{"errorMessage":"Malformed request","event":"error"}',
    ),
    (
        "error with reqid",
        '{"errorMessage":"Exceeded msg rate","event":"error","reqid":42}',
    ),
    (
        "subscriptionStatus error without channelName",
        '{"errorMessage":"Event(s) not found","event":"subscriptionStatus","reqid":1,'
        '"status":"error"}',
    ),
    (
        "unsupported event",
        '{"errorMessage":"Unsupported event","event":"subscriptionStatus","reqid":1,'
        '"status":"error"}',
    ),
    (
        "addOrderStatus error with echoed fields",
        '{"errorMessage":"Reqid field must be a positive integer less than 184467440737095516'
        '16","event":"addOrderStatus","pair":"USDC/USD","reqid":null,"status":"error"}',
    ),
    (
        "openOrders ack with maxratecount",
        '{"channelName":"openOrders","event":"subscriptionStatus","reqid":0,'
        '"status":"subscribed","subscription":{"maxratecount":125,"name":"openOrders"}}',
    ),
    (
        "ownTrades ack",
        '{"channelName":"ownTrades","event":"subscriptionStatus","reqid":0,'
        '"status":"subscribed","subscription":{"name":"ownTrades"}}',
    ),
    (
        "invalid session",
        '{"errorMessage":"ESession:Invalid session","event":"subscriptionStatus","status":"error"}',
    ),
    (
        "permission denied",
        '{"errorMessage":"EGeneral:Permission denied","event":"addOrderStatus","status":"error"}',
    ),
    (
        "unsubscribed ack",
        '{"channelName":"ownTrades","event":"subscriptionStatus","status":"unsubscribed",'
        '"subscription":{"name":"ownTrades"}}',
    ),
    (
        "empty ownTrades snapshot",
        '[[],"ownTrades",{"sequence":1}]',
    ),
    (
        "empty openOrders snapshot",
        '[[],"openOrders",{"sequence":1}]',
    ),
    (
        "old-service empty openOrders",
        '[[], "openOrders"]',
    ),
    (
        "new order, full pending record",
        '[[{"OAVY7T-MV5VK-KHDF5X":{"avg_price":"0.000000","cost":"0.000000",'
        '"descr":{"close":null,"leverage":null,"order":"buy 5.00000000 ATOM/USD @ limit 9.250'
        '000","ordertype":"limit","pair":"ATOM/USD","price":"9.250000","price2":"0.000000",'
        '"type":"buy"},"expiretm":null,"fee":"0.000000","limitprice":"0.000000","misc":"",'
        '"oflags":"fciq","opentm":"1700220661.985020","refid":null,"starttm":null,'
        '"status":"pending","stopprice":"0.000000","timeinforce":"GTC","userref":0,'
        '"vol":"5.00000000","vol_exec":"0.00000000"}}],"openOrders",{"sequence":2}]',
    ),
    (
        "goes live",
        '[[{"OAVY7T-MV5VK-KHDF5X":{"status":"open","userref":0}}],"openOrders",{"sequence":3}]',
    ),
    (
        "partial fill",
        '[[{"OAVY7T-MV5VK-KHDF5X":{"avg_price":"9.250000","cost":"23.125000","fee":"0.06012",'
        '"userref":0,"vol_exec":"2.50000000"}}],"openOrders",{"sequence":4}]',
    ),
    (
        "user cancel",
        '[[{"OAVY7T-MV5VK-KHDF5X":{"lastupdated":"1700220700.114325","status":"canceled",'
        '"vol_exec":"2.50000000","cost":"23.125000","fee":"0.06012","avg_price":"9.250000",'
        '"userref":0,"cancel_reason":"User requested"}}],"openOrders",{"sequence":5}]',
    ),
    (
        "REST token reply",
        '{"error":[],"result":{"token":"1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEMw",'
        '"expires":900}}',
    ),
    (
        "REST error",
        '{"error":["EAPI:Invalid key"]}',
    ),
    (
        "v2 heartbeat",
        '{"channel":"heartbeat"}',
    ),
    (
        "v2 status",
        '{"channel":"status","data":[{"api_version":"v2",'
        '"connection_id":12393906104898154338,"system":"online","version":"2.0.4"}],'
        '"type":"update"}',
    ),
    (
        "v2 cancel_all",
        '{"method":"cancel_all","req_id":0,"result":{"count":0},"success":true,'
        '"time_in":"2024-05-19T11:42:13.815662Z","time_out":"2024-05-19T11:42:13.824053Z"}',
    ),
    (
        "v2 executions (numbers keep their digits)",
        '{"channel":"executions","type":"update","data":[{"order_id":"OK4GJX-KSTLS-7DZZO5",'
        '"last_qty":0.005,"last_price":26599.9}],"sequence":10}',
    ),
    (
        "systemStatus",
        '{"connectionID":8628615390848610000,"event":"systemStatus","status":"online",'
        '"version":"1.9.1"}',
    ),
    (
        "systemStatus with a connectionID above 2**63",
        '{"connectionID":14950811667203285981,"event":"systemStatus","status":"online",'
        '"version":"1.9.0"}',
    ),
    (
        "heartbeat",
        '{"event":"heartbeat"}',
    ),
    (
        "ownTrades ack without reqid",
        '{"channelName":"ownTrades","event":"subscriptionStatus","status":"subscribed",'
        '"subscription":{"name":"ownTrades"}}',
    ),
    (
        "openOrders ack reqid 1",
        '{"channelName":"openOrders","event":"subscriptionStatus","reqid":1,'
        '"status":"subscribed","subscription":{"maxratecount":125,"name":"openOrders"}}',
    ),
    (
        "ownTrades",
        '[[{"TDLH43-DVQXD-2KHVYY":{"cost":"1000000.00000","fee":"600.00000",'
        '"margin":"0.00000","ordertxid":"TDLH43-DVQXD-2KHVYY","ordertype":"limit",'
        '"pair":"XBT/EUR","postxid":"OGTT3Y-C6I3P-XRI6HX","price":"100000.00000",'
        '"time":"1560520332.914664","type":"buy","vol":"1000000000.00000000"}}],"ownTrades",'
        '{"sequence":2948}]',
    ),
    (
        "openOrders with a repeated id",
        '[[{"OGTT3Y-C6I3P-XRI6HX":{"status":"closed"}},'
        '{"OGTT3Y-C6I3P-XRI6HX":{"status":"closed"}}],"openOrders",{"sequence":59342}]',
    ),
    (
        "addOrderStatus ok",
        '{"descr":"buy 0.01770000 XBTUSD @ limit 4000","event":"addOrderStatus",'
        '"status":"ok","txid":"ONPNXH-KMKMU-F4MR5V"}',
    ),
    (
        "addOrderStatus error",
        '{"errorMessage":"EOrder:Order minimum not met","event":"addOrderStatus","status":"error"}',
    ),
    (
        "editOrderStatus",
        '{"descr":"order edited price = 9000.00000000","event":"editOrderStatus",'
        '"originaltxid":"O65KZW-J4AW3-VFS74A","reqid":3,"status":"ok",'
        '"txid":"OTI672-HJFAO-XOIPPK"}',
    ),
    (
        "amendOrderStatus",
        '{"amend_id":"TGS4UP-DP6E3-YO3KFN","cl_ord_id":"906bcc85-1866-4b4b-9d0d-880bbcbe7447"'
        ',"event":"amendOrderStatus","status":"ok"}',
    ),
    (
        "cancelOrderStatus",
        '{"event":"cancelOrderStatus","status":"ok"}',
    ),
    (
        "cancelAllStatus",
        '{"count":2,"event":"cancelAllStatus","status":"ok"}',
    ),
    (
        "cancelAllOrdersAfterStatus armed",
        '{"currentTime":"2020-12-21T09:37:09Z","event":"cancelAllOrdersAfterStatus",'
        '"reqid":1608543428050,"status":"ok","triggerTime":"2020-12-21T09:38:09Z"}',
    ),
    (
        "cancelAllOrdersAfterStatus disarmed",
        '{"currentTime":"2020-12-21T09:37:09Z","event":"cancelAllOrdersAfterStatus",'
        '"reqid":1608543428051,"status":"ok","triggerTime":"0"}',
    ),
    (
        "seed ownTrades (doc copy)",
        '[[{"TDLH43-DVQXD-2KHVYY":{"cost":"1000000.00000","fee":"600.00000",'
        '"margin":"0.00000","ordertxid":"TDLH43-DVQXD-2KHVYY","ordertype":"limit",'
        '"pair":"XBT/EUR","postxid":"OGTT3Y-C6I3P-XRI6HX","price":"100000.00000",'
        '"time":"1560520332.914664","type":"buy","vol":"1000000000.00000000"}}],"ownTrades"]',
    ),
    (
        "seed openOrders (doc copy)",
        '[[{"OGTT3Y-C6I3P-XRI6HX":{"cost":"0.00000","descr":{"close":"","leverage":"0:1",'
        '"order":"sell 0.00001000 XBT/EUR @ limit 9.00000 with 0:1 leverage",'
        '"ordertype":"limit","pair":"XBT/EUR","price":"9.00000","price2":"0.00000",'
        '"type":"sell"},"expiretm":"0.000000","fee":"0.00000","limitprice":"9.00000",'
        '"misc":"","oflags":"fcib","opentm":"0.000000","refid":"OKIVMP-5GVZN-Z2D2UA",'
        '"starttm":"0.000000","status":"open","stopprice":"0.000000","userref":0,'
        '"vol":"0.00001000","vol_exec":"0.00000000"}}],"openOrders"]',
    ),
    (
        "seed page ownTrades",
        '[\n[\n{\n"TDLH43-DVQXD-2KHVYY": {\n"cost": "1000000.00000",\n"fee": "600.00000",'
        '\n"margin": "0.00000",\n"ordertxid": "TDLH43-DVQXD-2KHVYY",\n"ordertype": "limit",'
        '\n"pair": "XBT/EUR",\n"postxid": "OGTT3Y-C6I3P-XRI6HX",\n"price": "100000.00000",'
        '\n"time": "1560520332.914664",\n"type": "buy",'
        '\n"vol": "1000000000.00000000"\n}\n}\n],\n"ownTrades"\n]',
    ),
    (
        "seed page openOrders",
        '[\n[\n{\n"OGTT3Y-C6I3P-XRI6HX": {\n"cost": "0.00000",\n"descr": {\n"close": "",'
        '\n"leverage": "0:1",\n"order": "sell 0.00001000 XBT/EUR @ limit 9.00000 with 0:1 lev'
        'erage",\n"ordertype": "limit",\n"pair": "XBT/EUR",\n"price": "9.00000",'
        '\n"price2": "0.00000",\n"type": "sell"\n},\n"expiretm": "0.000000",'
        '\n"fee": "0.00000",\n"limitprice": "9.00000",\n"misc": "",\n"oflags": "fcib",'
        '\n"opentm": "0.000000",\n"price": "9.00000",\n"refid": "OKIVMP-5GVZN-Z2D2UA",'
        '\n"starttm": "0.000000",\n"status": "open",\n"stopprice": "0.000000",\n"userref": 0,'
        '\n"vol": "0.00001000",\n"vol_exec": "0.00000000"\n}\n}\n],\n"openOrders"\n]',
    ),
    (
        "seed page addOrderStatus",
        '{\n"descr": "buy 0.01770000 XBTUSD @ limit 4000",\n"event": "addOrderStatus",'
        '\n"status": "ok",\n"txid": "ONPNXH-KMKMU-F4MR5V"\n}',
    ),
    (
        "seed page cancelOrderStatus",
        '{\n"event": "cancelOrderStatus",\n"status": "ok"\n}',
    ),
)
"""(description, frame) for every v1 frame of the docs and the seed page."""

V2_EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        "executions subscribe ack",
        '{"method":"subscribe","result":{"channel":"executions","maxratecount":125,'
        '"snap_orders":true,"snap_trades":true},"success":true,'
        '"time_in":"2023-10-16T13:18:35.303171Z","time_out":"2023-10-16T13:18:35.318297Z"}',
    ),
    (
        "executions unsubscribe ack (prose)",
        '{"method":"unsubscribe","result":{"channel":"executions"},"success":true}',
    ),
    (
        "executions pending_new",
        '{"channel":"executions","type":"update","data":[{"order_id":"OK4GJX-KSTLS-7DZZO5",'
        '"order_userref":3,"symbol":"BTC/USD","order_qty":0.005,"cum_cost":0.0,'
        '"time_in_force":"GTC","exec_type":"pending_new","side":"sell","order_type":"limit",'
        '"limit_price_type":"static","limit_price":26500.0,"stop_price":0.0,'
        '"order_status":"pending_new","fee_usd_equiv":0.0,"fee_ccy_pref":"fciq",'
        '"timestamp":"2023-09-22T10:33:05.709950Z"}],"sequence":8}',
    ),
    (
        "executions new",
        '{"channel":"executions","type":"update","data":[{"timestamp":"2023-09-22T10:33:05.70'
        '9982Z","order_status":"new","exec_type":"new","order_userref":3,'
        '"order_id":"OK4GJX-KSTLS-7DZZO5"}],"sequence":9}',
    ),
    (
        "executions trade (partially_filled on the completing fill)",
        '{"channel":"executions","type":"update","data":[{"order_id":"OK4GJX-KSTLS-7DZZO5",'
        '"order_userref":3,"exec_id":"TGBB7L-HT5LX-J3BZ4A","exec_type":"trade",'
        '"trade_id":62887576,"symbol":"BTC/USD","side":"sell","last_qty":0.005,'
        '"last_price":26599.9,"liquidity_ind":"t","cost":132.9995,"order_type":"limit",'
        '"timestamp":"2023-09-22T10:33:05.709993Z","order_status":"partially_filled",'
        '"cum_qty":0.005,"cum_cost":132.9995,"avg_price":26599.9,"fee_usd_equiv":0.3458,'
        '"fees":[{"asset":"USD","qty":0.3458}]}],"sequence":10}',
    ),
    (
        "executions canceled (live record)",
        '{"channel":"executions","type":"update","data":[{"timestamp":"2025-10-11T15:11:47.69'
        '5226Z","order_status":"canceled","exec_type":"canceled","order_userref":0,'
        '"order_id":"OGAB7Y-BKX5F-PTK5RW","cum_qty":0,"cum_cost":0,"fee_usd_equiv":0,'
        '"avg_price":0,"cancel_reason":"User requested","reason":"User requested"}],'
        '"sequence":11}',
    ),
    (
        "balances subscribe ack (prose)",
        '{"method":"subscribe","result":{"channel":"balances","snapshot":true},"success":true}',
    ),
    (
        "balances snapshot",
        '{"channel":"balances","data":[{"asset":"BTC","asset_class":"currency","balance":1.2,'
        '"wallets":[{"type":"spot","id":"main","balance":1.2}]},{"asset":"USD",'
        '"asset_class":"currency","balance":80595.4943,"wallets":[{"type":"spot","id":"main",'
        '"balance":80595.4943}]}],"type":"snapshot","sequence":1}',
    ),
    (
        "balances update",
        '{"channel":"balances","type":"update","data":[{"ledger_id":"A5KS77-LQRMP-SMMN4B",'
        '"ref_id":"AGBB7L-HT5LX-J3BB4A","timestamp":"2023-09-22T10:33:05.710082Z",'
        '"type":"trade","asset":"USD","asset_class":"currency","category":"trade",'
        '"wallet_type":"spot","wallet_id":"main","amount":132.9995,"fee":0.3458,'
        '"balance":500}],"sequence":10}',
    ),
    (
        "heartbeat",
        '{"channel":"heartbeat"}',
    ),
    (
        "status (connection_id above 2**63)",
        '{"channel":"status","data":[{"api_version":"v2",'
        '"connection_id":13834774380200032777,"system":"online","version":"2.0.0"}],'
        '"type":"update"}',
    ),
    (
        "add_order reply",
        '{"method":"add_order","req_id":123456789,"result":{"order_id":"AA5JGQ-SBMRC-SCJ7J7",'
        '"order_userref":100054},"success":true,"time_in":"2023-09-21T14:15:07.197274Z",'
        '"time_out":"2023-09-21T14:15:07.205301Z"}',
    ),
    (
        "add_order error",
        '{"error":"EOrder:Insufficient funds","method":"add_order","req_id":123456789,'
        '"success":false,"time_in":"2023-09-21T14:15:07.197274Z",'
        '"time_out":"2023-09-21T14:15:07.205301Z"}',
    ),
    (
        "add_order validate reply",
        '{"method":"add_order","req_id":7,"result":{"order_id":"","warnings":["w"]},'
        '"success":true}',
    ),
    (
        "amend_order reply",
        '{"method":"amend_order","result":{"amend_id":"TTW6PD-RC36L-ZZSWNU",'
        '"cl_ord_id":"2c6be801-1f53-4f79-a0bb-4ea1c95dfae9"},"success":true,'
        '"time_in":"2024-07-26T13:39:04.922699Z","time_out":"2024-07-26T13:39:04.924912Z"}',
    ),
    (
        "edit_order reply",
        '{"method":"edit_order","req_id":1234567890,"result":{"order_id":"ORDERX-IDXXX-XXXXX2'
        '","original_order_id":"ORDERX-IDXXX-XXXXX1"},"success":true,'
        '"time_in":"2022-07-15T12:56:09.876488Z","time_out":"2022-07-15T12:56:09.923422Z"}',
    ),
    (
        "cancel_order reply 1 of 2",
        '{"method":"cancel_order","req_id":123456789,'
        '"result":{"order_id":"OLUMT4-UTEGU-ZYM7E9"},"success":true,'
        '"time_in":"2023-09-21T14:36:57.428972Z","time_out":"2023-09-21T14:36:57.437952Z"}',
    ),
    (
        "cancel_order reply 2 of 2",
        '{"method":"cancel_order","req_id":123456789,'
        '"result":{"order_id":"OM5CRX-N2HAL-GFGWE9"},"success":true,'
        '"time_in":"2023-09-21T14:36:57.428972Z","time_out":"2023-09-21T14:36:57.438027Z"}',
    ),
    (
        "cancel_order of a gone order (official SDK)",
        '{"method":"cancel_order","req_id":5,"success":false,"error":"EOrder:Invalid order"}',
    ),
    (
        "cancel_all reply",
        '{"method":"cancel_all","req_id":1234567890,"result":{"count":1},"success":true,'
        '"time_in":"2023-09-26T13:09:48.463201Z","time_out":"2023-09-26T13:09:48.471419Z"}',
    ),
    (
        "cancel_all_orders_after reply",
        '{"method":"cancel_all_orders_after","req_id":1234567890,'
        '"result":{"currentTime":"2023-09-21T15:49:29Z",'
        '"triggerTime":"2023-09-21T15:51:09Z"},"success":true,'
        '"time_in":"2023-09-21T15:49:28.627900Z","time_out":"2023-09-21T15:49:28.649057Z"}',
    ),
    (
        "cancel_all_orders_after disarmed",
        '{"method":"cancel_all_orders_after","req_id":2,'
        '"result":{"currentTime":"2023-09-21T15:49:29Z","triggerTime":"0"},"success":true}',
    ),
    (
        "batch_add reply",
        '{"method":"batch_add","req_id":1234567890,"result":[{"order_id":"ORDERX-IDXXX-XXXXX1'
        '","order_userref":1},{"order_id":"ORDERX-IDXXX-XXXXX2","order_userref":2}],'
        '"success":true,"time_in":"2022-06-13T08:09:10.123456Z",'
        '"time_out":"2022-06-13T08:09:10.7890123"}',
    ),
    (
        "batch_add partly placed (official SDK shape)",
        '{"method":"batch_add","req_id":3,"success":false,"result":[{"order_id":"O1",'
        '"order_userref":1},{"error":"EOrder:Insufficient funds","order_userref":2}]}',
    ),
    (
        "batch_add partly placed (Nautilus shape)",
        '{"method":"batch_add","req_id":4,"success":true,'
        '"result":{"orders":[{"order_id":"O1","cl_ord_id":"a","success":true},'
        '{"cl_ord_id":"b","success":false,"error":"EOrder:Insufficient funds"}]}}',
    ),
    (
        "batch_cancel reply",
        '{"method":"batch_cancel","req_id":1234567890,"result":{"count":3},"success":true,'
        '"time_in":"2022-06-13T08:09:10.123456Z","time_out":"2022-06-13T08:09:10.7890123"}',
    ),
    (
        "pong",
        '{"method":"pong","req_id":101,"time_in":"2023-09-24T14:10:23.799685Z",'
        '"time_out":"2023-09-24T14:10:23.799703Z"}',
    ),
)
"""(description, frame) for every frame of the WebSocket v2 doc."""

V1_EXAMPLE_FRAMES: tuple[bytes, ...] = tuple(frame.encode() for _, frame in V1_EXAMPLES)
"""The v1 example frames as UTF-8 bytes, in order."""
V2_EXAMPLE_FRAMES: tuple[bytes, ...] = tuple(frame.encode() for _, frame in V2_EXAMPLES)
"""The v2 example frames as UTF-8 bytes, in order."""
