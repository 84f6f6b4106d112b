/// The live fleet page served at `/`: one self-contained HTML document (no
/// external assets, works offline, fits a phone) that polls `/api/fleet` and
/// `/api/server` every 2 s and redraws in place. Polling rather than
/// server-sent events: no connection is held between updates, so a page left
/// open costs the listener nothing between its requests. It says when its
/// data is old (a failed fetch, or the server's loop not publishing), when the
/// server is blind (view frozen) and when it is a standby. A row whose state,
/// interval or config error changed while the page was open is highlighted for
/// 30 s, with what changed in its title (and `data-changed`).
enum FleetPage {
    static let html: [UInt8] = Array(text.utf8)

    private static let text = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>monitor: fleet</title>
<style>
body{font:14px system-ui,sans-serif;margin:0;padding:12px;background:#fafafa;color:#222}
h1{font-size:18px;margin:0 0 8px}
#counts span{display:inline-block;margin:0 8px 6px 0;padding:4px 10px;border-radius:12px;color:#fff;font-weight:600}
#banner{padding:6px 10px;margin:6px 0;border-radius:4px;background:#fde68a;display:none}
#banner.bad{background:#fca5a5}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:4px 6px;border-bottom:1px solid #e5e5e5;text-align:left;white-space:nowrap}
th{font-size:12px;color:#666}
.alive{background:#16a34a}.stale{background:#d97706}.stopped{background:#6b7280}.dead{background:#dc2626}
td.state span{color:#fff;padding:1px 8px;border-radius:8px}
.bar{display:inline-block;width:60px;height:8px;background:#e5e5e5;vertical-align:middle;margin-right:4px}
.bar i{display:block;height:8px;background:#2563eb}
.err{color:#b91c1c;white-space:normal}
tr.changed{background:#fef9c3}
#wrap{overflow-x:auto}
@media (max-width:600px){.wide{display:none}}
</style></head><body>
<h1>monitor: fleet <small id="updated"></small></h1>
<div id="counts"></div>
<div id="banner"></div>
<div id="wrap"><table><thead><tr><th>node</th><th>state</th><th>since</th><th>last seen</th>
<th class="wide">interval</th><th>cpu</th><th>memory</th><th class="wide">disk r/w</th><th class="wide">net in/out</th>
<th>config</th></tr></thead><tbody id="rows"></tbody></table></div>
<script>
"use strict";
const states=["alive","stale","stopped","dead"];
function esc(s){return String(s).replace(/[&<>"']/g,c=>"&#"+c.charCodeAt(0)+";")}
function ago(t,now){if(t==null)return"-";let s=Math.max(0,now-t);
 return s<90?Math.round(s)+" s ago":s<5400?Math.round(s/60)+" min ago":s<172800?Math.round(s/3600)+" h ago":Math.round(s/86400)+" d ago"}
function rate(v){if(v==null)return"-";const u=["B/s","KiB/s","MiB/s","GiB/s"];let i=0;while(v>=1024&&i<3){v/=1024;i++}return v.toFixed(i?1:0)+" "+u[i]}
function bar(p){if(p==null)return"-";const w=Math.max(0,Math.min(100,p));return'<span class="bar"><i style="width:'+w+'%"></i></span>'+p.toFixed(1)+"%"}
let lastOK=0,previous=null;const changes={};
function noteChanges(nodes,now){const seen={};
 for(const n of nodes){const row={state:n.state,interval:n.interval,config_error:n.config_error};seen[n.node]=row;
  const old=previous&&previous[n.node];if(!old)continue;
  const what=Object.keys(row).filter(k=>old[k]!==row[k]).map(k=>k+" "+old[k]+" -> "+row[k]);
  if(what.length)changes[n.node]={text:what.join(", "),at:now}}
 previous=seen}
function changed(node,now){const c=changes[node];return c&&now-c.at<30?c.text:null}
function banner(text,bad){const b=document.getElementById("banner");b.style.display=text?"block":"none";b.textContent=text||"";b.className=bad?"bad":""}
async function refresh(){
 try{
  const [fr,sr]=await Promise.all([fetch("/api/fleet",{cache:"no-store"}),fetch("/api/server",{cache:"no-store"})]);
  if(!fr.ok||!sr.ok)throw new Error("HTTP "+fr.status+"/"+sr.status);
  const fleet=await fr.json(),server=await sr.json();lastOK=Date.now();
  document.getElementById("counts").innerHTML=states.map(s=>'<span class="'+s+'">'+fleet.counts[s]+" "+s+"</span>").join("");
  noteChanges(fleet.nodes,fleet.time);
  document.getElementById("rows").innerHTML=fleet.nodes.map(n=>{const m=n.metrics||{},c=changed(n.node,fleet.time);
   return"<tr"+(c?' class="changed" title="'+esc(c)+'" data-changed="'+esc(c)+'"':"")+"><td>"+esc(n.node)+'</td><td class="state"><span class="'+esc(n.state)+'">'+esc(n.state)+"</span></td><td>"
   +ago(n.since,fleet.time)+"</td><td>"+ago(n.last_seen,fleet.time)+'</td><td class="wide">'+(n.interval==null?"-":n.interval+" s")
   +"</td><td>"+bar(m.cpu)+"</td><td>"+bar(m.memory)+'</td><td class="wide">'+rate(m["disk read"])+" / "+rate(m["disk write"])
   +'</td><td class="wide">'+rate(m["net in"])+" / "+rate(m["net out"])+'</td><td class="err">'+(n.config_error?esc(n.config_error):"")+"</td></tr>"}).join("");
  document.getElementById("updated").textContent=new Date(server.time*1000).toLocaleTimeString();
  let notes=[];
  if(server.unhealthy)notes.push("Data may be old: "+server.unhealthy);
  if(!server.leading)notes.push("This server is a standby"+(server.leader?" (the leader is "+server.leader+")":"")+": same view, the leader reports transitions.");
  banner(notes.join(" "),!!server.unhealthy);
 }catch(e){banner("No answer from the server since "+(lastOK?new Date(lastOK).toLocaleTimeString():"this page opened")+" ("+e.message+"): the rows below are old.",true)}
}
refresh();setInterval(refresh,2000);
</script></body></html>
"""#
}
