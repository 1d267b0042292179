const net=require('net');const t0=Date.now();
const s=net.connect(46001,'127.0.0.1',()=>s.write(JSON.stringify({v:1,shell:'bash',host:'h',sid:'x',seq:1,t:Date.now(),uid:0,user:'root',cmd:'id'})+'\n'));
s.on('data',d=>console.log('data',JSON.stringify(String(d)),Date.now()-t0));s.on('end',()=>console.log('end',Date.now()-t0));s.on('close',()=>console.log('close',Date.now()-t0));
