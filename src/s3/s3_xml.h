/* s3_xml.h - a tiny, careful scanner for the few small XML answers duet
 * reads from S3 (InitiateMultipartUploadResult's UploadId, the ETag of
 * CompleteMultipartUploadResult, an Error's Code and Message).
 *
 * Not an XML parser: it finds the first element with a given name and
 * returns its text. It never reads outside the given bytes and never
 * writes past `cap`.
 */
#ifndef DUET_S3_XML_H
#define DUET_S3_XML_H

#include <stddef.h>

/* The text of the first <tag>...</tag> (or <tag attr="...">, or an empty
 * <tag/>) in xml[0..len), with the entities &amp; &lt; &gt; &quot; &apos;
 * and ASCII character references (&#34; &#x22;) decoded, NUL-terminated
 * into out (cap bytes, NUL included). Its length, or -ENOENT (no such
 * element), -ENOSPC (the text does not fit), -EINVAL (the element is
 * unterminated, holds markup, a NUL or a bad entity; a bad tag name). */
int s3_xml_text(const char *xml, size_t len, const char *tag, char *out, size_t cap);

#endif
