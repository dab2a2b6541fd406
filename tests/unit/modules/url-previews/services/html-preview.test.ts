import t from 'tap';
import { decodeHtml, parseHtmlPreview } from '../../../../../modules/url-previews/services/html-preview.js';

const page = new URL('https://example.com/blog/post.html');

void t.test('OpenGraph tags are read', async (t) => {
  const og = parseHtmlPreview(
    `<html><head>
      <meta property="og:title" content="Matrix Blog Post">
      <meta property="og:description" content="This is a really cool blog post from matrix.org">
      <meta property="og:image" content="/img/cover.png">
      <meta name="og:site_name" content="Matrix">
      <title>Ignored title</title>
    </head><body><img src="other.png"></body></html>`,
    page,
  );
  t.same(og, {
    'og:title': 'Matrix Blog Post',
    'og:description': 'This is a really cool blog post from matrix.org',
    'og:image': 'https://example.com/img/cover.png',
    'og:site_name': 'Matrix',
  });
});

void t.test('fallbacks: <title>, meta description, first image', async (t) => {
  const og = parseHtmlPreview(
    `<title>  A   &amp; B </title><meta name="description" content="Desc">
     <script>document.write('<img src="evil.png">')</script>
     <img src="data:image/png;base64,AAAA"><img src="pics/first.jpg"><img src="second.jpg">`,
    page,
  );
  t.same(og, {
    'og:title': 'A & B',
    'og:description': 'Desc',
    'og:image': 'https://example.com/blog/pics/first.jpg',
  });
});

void t.test('non-http images are dropped; an empty page gives nothing', async (t) => {
  t.same(parseHtmlPreview('<meta property="og:image" content="javascript:alert(1)">', page), {});
  t.same(parseHtmlPreview('', page), {});
});

void t.test('charset from the header or a meta tag', async (t) => {
  const latin1 = Buffer.from('<title>caf\xe9</title>', 'latin1');
  t.equal(decodeHtml(latin1, 'text/html; charset=ISO-8859-1'), '<title>café</title>');
  const withMeta = Buffer.concat([
    Buffer.from('<meta charset="windows-1252"><title>'),
    Buffer.from([0xe9]),
    Buffer.from('</title>'),
  ]);
  t.match(decodeHtml(withMeta, 'text/html'), /<title>é<\/title>/);
  t.equal(decodeHtml(Buffer.from('<title>ok ✓</title>'), undefined), '<title>ok ✓</title>');
  t.equal(decodeHtml(Buffer.from('x'), 'text/html; charset=no-such-charset'), 'x');
});
