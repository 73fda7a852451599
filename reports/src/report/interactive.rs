//! Interactive time series in `report.html`: each [`LineChart`] becomes compact JSON data that
//! uPlot (vendored in `assets/uplot/`, MIT licence, embedded in the page: no network at view
//! time) draws in the browser: drag to zoom to a window, double-click to zoom out, hover for
//! values, events as ticks in a lane above the plot.
//!
//! The data is downsampled for the overview so the page stays small for any run length: at
//! most [`MAX_POINTS`] x values per chart, each bucket of rows keeping its minimum and maximum
//! per series in the order they occurred, so peaks and dips survive. Every name is
//! JSON-encoded and the JSON is made safe inside `<script>` (`<`, `>`, `&` as `\u` escapes).

use std::fmt::Write as _;

use crate::charts::{LineChart, YUnit, marker_label, palette_hex};

/// The uPlot library, minified, as published (v1.6.32).
const UPLOT_JS: &str = include_str!("../../assets/uplot/uPlot.iife.min.js");
/// uPlot's style sheet.
const UPLOT_CSS: &str = include_str!("../../assets/uplot/uPlot.min.css");
/// uPlot's licence, kept in the page beside the code.
const UPLOT_LICENSE: &str = include_str!("../../assets/uplot/LICENSE.txt");

/// The most x values a chart's data keeps (two per bucket of rows: its minimum and maximum).
pub const MAX_POINTS: usize = 1200;

/// The most event ticks per kind and chart (one per bucket of time).
pub const MAX_EVENTS: usize = 600;

/// A number as short JSON: integers without decimals, others with at most 4.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" { "0".into() } else { s.into() }
    }
}

/// A JSON string, safe inside an HTML `<script>` element.
fn js_string(s: &str) -> String {
    let j = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    j.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The chart's x values (hours), the union over its series, sorted, and each series on them.
fn aligned(c: &LineChart) -> (Vec<f64>, Vec<Vec<Option<f64>>>) {
    let mut xs: Vec<f64> = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .filter(|x| x.is_finite())
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let ys = c
        .series
        .iter()
        .map(|s| {
            let mut col = vec![None; xs.len()];
            for &(x, y) in &s.points {
                if let (Ok(i), true) = (xs.binary_search_by(|v| v.total_cmp(&x)), y.is_finite()) {
                    col[i] = Some(y);
                }
            }
            col
        })
        .collect();
    (xs, ys)
}

/// Downsample to at most `max` x values: buckets of consecutive rows, each giving two x
/// values (its first and last) and, per series, its minimum and maximum in the order they
/// occurred.
pub fn downsample(
    xs: &[f64],
    ys: &[Vec<Option<f64>>],
    max: usize,
) -> (Vec<f64>, Vec<Vec<Option<f64>>>) {
    if xs.len() <= max || max < 2 {
        return (xs.to_vec(), ys.to_vec());
    }
    let buckets = max / 2;
    let mut out_x = Vec::with_capacity(max);
    let mut out_y: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(max); ys.len()];
    for b in 0..buckets {
        let lo = b * xs.len() / buckets;
        let hi = ((b + 1) * xs.len() / buckets).max(lo + 1);
        out_x.push(xs[lo]);
        out_x.push(xs[hi - 1]);
        for (s, col) in ys.iter().enumerate() {
            let vals = col[lo..hi]
                .iter()
                .enumerate()
                .filter_map(|(i, v)| Some((i, (*v)?)));
            let mut min: Option<(usize, f64)> = None;
            let mut max_v: Option<(usize, f64)> = None;
            for (i, v) in vals {
                if min.is_none_or(|m| v < m.1) {
                    min = Some((i, v));
                }
                if max_v.is_none_or(|m| v > m.1) {
                    max_v = Some((i, v));
                }
            }
            let (first, second) = match (min, max_v) {
                (Some(a), Some(b)) if a.0 <= b.0 => (Some(a.1), Some(b.1)),
                (Some(a), Some(b)) => (Some(b.1), Some(a.1)),
                _ => (None, None),
            };
            out_y[s].push(first);
            out_y[s].push(second);
        }
    }
    (out_x, out_y)
}

fn unit_name(u: YUnit) -> &'static str {
    match u {
        YUnit::Count => "count",
        YUnit::Percent => "percent",
        YUnit::Usd => "usd",
        YUnit::Number => "number",
    }
}

/// One chart's data as JSON.
pub fn chart_json(c: &LineChart) -> String {
    let (xs, ys) = aligned(c);
    let (xs, ys) = downsample(&xs, &ys, MAX_POINTS);
    let mut o = String::new();
    let _ = write!(
        o,
        "{{\"title\":{},\"y\":{},\"unit\":\"{}\",\"x\":[",
        js_string(&c.title),
        js_string(&c.y_label),
        unit_name(c.unit)
    );
    let list = |o: &mut String, vals: &mut dyn Iterator<Item = String>| {
        for (i, v) in vals.enumerate() {
            if i > 0 {
                o.push(',');
            }
            o.push_str(&v);
        }
    };
    list(&mut o, &mut xs.iter().map(|&x| num(x)));
    o.push_str("],\"series\":[");
    for (i, (s, col)) in c.series.iter().zip(&ys).enumerate() {
        if i > 0 {
            o.push(',');
        }
        let _ = write!(
            o,
            "{{\"name\":{},\"color\":\"{}\",\"dash\":{},\"thin\":{},\"y\":[",
            js_string(&s.name),
            palette_hex(s.group),
            s.dashed,
            s.thin
        );
        list(
            &mut o,
            &mut col.iter().map(|v| v.map_or("null".into(), num)),
        );
        o.push_str("]}");
    }
    o.push_str("],\"shade\":[");
    let shades: Vec<String> = c
        .shade
        .iter()
        .filter(|s| s.0 < c.series.len() && s.1 < c.series.len())
        .map(|(u, l, name)| format!("[{u},{l},{}]", js_string(name)))
        .collect();
    o.push_str(&shades.join(","));
    o.push_str("],\"events\":[");
    let x_max = xs.last().copied().unwrap_or(1.0).max(1e-9);
    let mut kinds: Vec<(&str, Vec<f64>, usize)> = Vec::new();
    for &(x, kind) in &c.markers {
        if !x.is_finite() {
            continue;
        }
        let k = match kinds.iter().position(|k| k.0 == kind) {
            Some(k) => k,
            None => {
                kinds.push((kind, Vec::new(), 0));
                kinds.len() - 1
            }
        };
        kinds[k].2 += 1;
        kinds[k].1.push(x);
    }
    for (i, (kind, xs, count)) in kinds.iter_mut().enumerate() {
        xs.sort_by(f64::total_cmp);
        xs.dedup_by(|a, b| {
            (*a / x_max * MAX_EVENTS as f64) as i64 == (*b / x_max * MAX_EVENTS as f64) as i64
        });
        if i > 0 {
            o.push(',');
        }
        let _ = write!(
            o,
            "{{\"kind\":{},\"label\":{},\"count\":{count},\"x\":[",
            js_string(kind),
            js_string(marker_label(kind))
        );
        list(&mut o, &mut xs.iter().map(|&x| num(x)));
        o.push_str("]}");
    }
    o.push_str("]}");
    o
}

/// The script that draws every chart from `#ecsim-data` and reports on the page (and in
/// `window.__ecsim`) how many drew, with pixels on their canvas.
const DRAW: &str = r#"
(function(){
var E={scaling:'#009e73',failure:'#d62728',deployment:'#9467bd',alarm:'#e69f00'};
function hm(v){if(v==null)return '--';var m=Math.round(v*60);return Math.floor(m/60)+':'+('0'+(m%60)).slice(-2);}
function grp(v,d){return v.toLocaleString('en-US',{minimumFractionDigits:d,maximumFractionDigits:d});}
function fmt(unit,v,tick){if(v==null)return '--';
 if(unit==='count'){if(tick&&Math.abs(v-Math.round(v))>1e-9)return '';return tick?grp(Math.round(v),0):grp(v,Math.abs(v-Math.round(v))<1e-9?0:2);}
 if(unit==='percent')return grp(v,Math.abs(v)>=10||tick?0:1)+' %';
 if(unit==='usd')return '$'+grp(v,Math.abs(v)>=100&&tick?0:2);
 return grp(v,Math.abs(v)>=100?0:(tick?1:2));}
function build(el,d){
 var rows=d.events.length, lane=rows?14*rows+6:0;
 var data=[d.x].concat(d.series.map(function(s){return s.y;}));
 var series=[{label:'time',value:function(u,v){return hm(v);}}].concat(d.series.map(function(s){
  return {label:s.name,stroke:s.color,width:(s.thin||s.dash)?1.25:2,dash:s.dash?[6,4]:undefined,spanGaps:true,points:{show:false},
   value:function(u,v){return fmt(d.unit,v,false);}};}));
 var opts={title:d.title,width:Math.max(320,el.clientWidth||900),height:360,padding:[8+lane,16,0,0],
  scales:{x:{time:false}},series:series,
  bands:d.shade.map(function(b){return {series:[b[0]+1,b[1]+1],fill:'rgba(214,39,40,0.18)'};}),
  axes:[{label:'simulated time (h:mm)'+(rows?'; ticks above the plot: events':''),values:function(u,vs){return vs.map(hm);}},
   {label:d.y,size:78,values:function(u,vs){return vs.map(function(v){return fmt(d.unit,v,true);});}}],
  cursor:{drag:{x:true,y:false}},
  hooks:{draw:[function(u){if(!rows)return;var c=u.ctx,p=devicePixelRatio||1,top=u.bbox.top-lane*p+2*p;
   c.save();c.font=(10*p)+'px sans-serif';c.textBaseline='middle';
   d.events.forEach(function(e,i){var y=top+i*14*p;c.strokeStyle=E[e.kind]||'#777';c.fillStyle=c.strokeStyle;c.lineWidth=p;
    c.beginPath();e.x.forEach(function(x){var px=u.valToPos(x,'x',true);if(px<u.bbox.left||px>u.bbox.left+u.bbox.width)return;c.moveTo(px,y);c.lineTo(px,y+10*p);});c.stroke();
    c.textAlign='right';c.fillText(e.label+' ('+e.count+')',u.bbox.left-6*p,y+5*p);});
   c.restore();}]}};
 return new uPlot(opts,data,el);}
function drawn(u){var c=u.ctx.canvas;if(!(c.width>0&&c.height>0))return false;
 var img=u.ctx.getImageData(0,0,c.width,c.height).data,n=0;for(var i=3;i<img.length;i+=4*7){if(img[i]>0)n++;}return n>20;}
document.addEventListener('DOMContentLoaded',function(){
 var src=document.getElementById('ecsim-data');var specs=src?JSON.parse(src.textContent):[];
 var els=document.querySelectorAll('.tchart');var plots=[];window.__ecsim={want:specs.length,drawn:0};
 for(var i=0;i<els.length&&i<specs.length;i++){try{plots.push(build(els[i],specs[i]));}catch(e){window.__errors.push(String(e));}}
 window.__ecsimPlots=plots;
 window.addEventListener('resize',function(){plots.forEach(function(u,i){u.setSize({width:Math.max(320,els[i].clientWidth),height:360});});});
});
window.__ecsimDrawn=function(){var p=window.__ecsimPlots||[];var n=0;p.forEach(function(u){if(drawn(u))n++;});return n;};
})();
"#;

/// The `<head>` additions for interactive charts: uPlot's style, code and licence, and the
/// drawing script.
pub fn head() -> String {
    format!(
        "<style>{UPLOT_CSS}.tchart{{margin:14px 0 22px}}.u-legend{{font-size:12px;text-align:left}}.u-title{{font-size:16px}}</style>\n<!-- uPlot 1.6.32, https://github.com/leeoniya/uPlot, embedded under its licence:\n{}\n-->\n<script>{UPLOT_JS}</script>\n<script>{DRAW}</script>\n",
        UPLOT_LICENSE.replace("--", "- -")
    )
}

/// The charts' placeholders and their data, for the page's body.
pub fn body(charts: &[&LineChart]) -> String {
    let mut o = String::new();
    for _ in charts {
        o.push_str("<div class=\"tchart\"></div>");
    }
    o.push_str("<script type=\"application/json\" id=\"ecsim-data\">[");
    for (i, c) in charts.iter().enumerate() {
        if i > 0 {
            o.push_str(",\n");
        }
        o.push_str(&chart_json(c));
    }
    o.push_str("]</script>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::Series;

    #[test]
    fn downsampling_keeps_peaks_and_bounds_the_size() {
        let xs: Vec<f64> = (0..10_000).map(f64::from).collect();
        let mut y: Vec<Option<f64>> = vec![Some(1.0); 10_000];
        y[4321] = Some(99.0);
        y[777] = Some(-5.0);
        let (dx, dy) = downsample(&xs, &[y], 100);
        assert_eq!(dx.len(), 100);
        assert!(dy[0].contains(&Some(99.0)) && dy[0].contains(&Some(-5.0)));
        assert!(dx.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn names_cannot_close_the_script() {
        let c = LineChart {
            title: "</script><script>alert(1)</script>".into(),
            y_label: "tasks".into(),
            series: vec![Series::new(
                "a&b<c>".into(),
                vec![(0.0, 1.0), (1.0, 2.5)],
                0,
            )],
            markers: vec![(0.5, "scaling")],
            unit: YUnit::Count,
            shade: Vec::new(),
        };
        let j = chart_json(&c);
        assert!(
            !j.contains('<') && !j.contains('>') && !j.contains('&'),
            "{j}"
        );
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["title"], "</script><script>alert(1)</script>");
        assert_eq!(v["series"][0]["y"][1], 2.5);
        assert_eq!(v["events"][0]["count"], 1);
    }
}
