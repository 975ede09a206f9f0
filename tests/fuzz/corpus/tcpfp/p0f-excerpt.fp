classes = win,unix

[tcp:request]

label = s:unix:Linux:test
sig   = *:64:0:*:mss*20,7:mss,sok,ts,nop,ws:df,id+:0
sig   = 4:64+2:0:1460:%512,*:mss,nop,eol+2:id-,ecn:*

label = g:win:Windows:
sig   = *:128:0:*:*,*:mss,nop,ws,nop,nop,sok:df,id+:0

label = s:!:Tool:x
sys   = @unix,Windows
sig   = *:64-:0:1460:1024,0:mss::0

[tcp:response]
label = s:unix:Linux:x
sig   = *:64:0:*:mss*10,0:mss::0

[mtu]
label = Ethernet
sig   = 1500
