import t from 'tap';
import {
  contentDisposition,
  parseRange,
  servedContentType,
} from '../../../../../modules/media/routes/content-headers.js';

void t.test('inline only for the spec list of safe types', async (t) => {
  t.equal(contentDisposition('image/png', undefined), 'inline');
  t.equal(contentDisposition('IMAGE/PNG; charset=x', undefined), 'inline');
  t.equal(contentDisposition('text/plain', 'a.txt'), 'inline; filename="a.txt"');
  t.equal(contentDisposition('text/html', 'a.html'), 'attachment; filename="a.html"');
  t.equal(contentDisposition('image/svg+xml', 'x.svg'), 'attachment; filename="x.svg"');
  t.equal(contentDisposition('application/octet-stream', undefined), 'attachment');
});

void t.test('file names outside plain ASCII use RFC 6266 filename*', async (t) => {
  t.equal(contentDisposition('image/jpeg', 'café.jpg'), "inline; filename*=utf-8''caf%C3%A9.jpg");
  t.equal(contentDisposition('image/jpeg', 'a"b.jpg'), "inline; filename*=utf-8''a%22b.jpg");
  t.equal(contentDisposition('image/jpeg', 'a\r\nX: y'), "inline; filename*=utf-8''a%0D%0AX%3A%20y");
  t.equal(
    contentDisposition('image/jpeg', "ça (1)'s.jpg"),
    "inline; filename*=utf-8''%C3%A7a%20%281%29%27s.jpg",
  );
  t.equal(contentDisposition('image/jpeg', "it's (1).jpg"), 'inline; filename="it\'s (1).jpg"');
});

void t.test('text gets a charset', async (t) => {
  t.equal(servedContentType('text/plain'), 'text/plain; charset=utf-8');
  t.equal(servedContentType('text/plain; charset=latin1'), 'text/plain; charset=latin1');
  t.equal(servedContentType('image/png'), 'image/png');
});

void t.test('single byte ranges (RFC 9110)', async (t) => {
  t.same(parseRange(undefined, 100), { kind: 'full' });
  t.same(parseRange('bytes=0-9', 100), { kind: 'partial', start: 0, end: 9 });
  t.same(parseRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 });
  t.same(parseRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 });
  t.same(parseRange('bytes=-500', 100), { kind: 'partial', start: 0, end: 99 });
  t.same(parseRange('bytes=50-5000', 100), { kind: 'partial', start: 50, end: 99 });
  t.same(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=0-1,5-6', 100), { kind: 'full' }, 'multiple ranges: whole content');
  t.same(parseRange('items=0-1', 100), { kind: 'full' });
  t.same(parseRange('bytes=9-3', 100), { kind: 'full' });
});
