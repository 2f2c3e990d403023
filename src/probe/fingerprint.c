#include "probe/fingerprint.h"
#include "core/util.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

struct signature {
	enum fingerprint_protocol protocol;
	const char *pattern; /* case-insensitive substring */
	const char *software;
};

/* First match wins: specific patterns before generic ones. */
static const struct signature signatures[] = {
	{FINGERPRINT_SMTP, "Microsoft ESMTP MAIL Service", "Microsoft Exchange"},
	{FINGERPRINT_SMTP, "Microsoft Exchange", "Microsoft Exchange"},
	{FINGERPRINT_SMTP, "X-EXPS", "Microsoft Exchange"},
	{FINGERPRINT_SMTP, "Postfix", "Postfix"},
	{FINGERPRINT_SMTP, "Exim", "Exim"},
	{FINGERPRINT_SMTP, "Sendmail", "Sendmail"},
	{FINGERPRINT_SMTP, "qmail", "qmail"},
	{FINGERPRINT_SMTP, "OpenSMTPD", "OpenSMTPD"},
	{FINGERPRINT_SMTP, "Courier", "Courier"},
	{FINGERPRINT_SMTP, "MDaemon", "MDaemon"},
	{FINGERPRINT_SMTP, "MailEnable", "MailEnable"},
	{FINGERPRINT_SMTP, "IMail", "IMail"},
	{FINGERPRINT_SMTP, "Lotus Domino", "Lotus Domino"},
	{FINGERPRINT_SMTP, "Domino", "Lotus Domino"},
	{FINGERPRINT_SMTP, "hMailServer", "hMailServer"},
	{FINGERPRINT_SMTP, "Kerio", "Kerio Connect"},
	{FINGERPRINT_SMTP, "CommuniGate", "CommuniGate Pro"},
	{FINGERPRINT_SMTP, "Zimbra", "Zimbra"},
	{FINGERPRINT_SMTP, "Haraka", "Haraka"},
	{FINGERPRINT_SMTP, "GroupWise", "GroupWise"},
	{FINGERPRINT_SMTP, "Merak", "Merak"},
	{FINGERPRINT_SMTP, "ArGoSoft", "ArGoSoft"},
	{FINGERPRINT_PROXY, "squid", "Squid"},
	{FINGERPRINT_PROXY, "tinyproxy", "tinyproxy"},
	{FINGERPRINT_PROXY, "Privoxy", "Privoxy"},
	{FINGERPRINT_PROXY, "3proxy", "3proxy"},
	{FINGERPRINT_PROXY, "CCProxy", "CCProxy"},
	{FINGERPRINT_PROXY, "WinGate", "WinGate"},
	{FINGERPRINT_PROXY, "Mikrotik HttpProxy", "MikroTik"},
	{FINGERPRINT_PROXY, "MikroTik", "MikroTik"},
	{FINGERPRINT_PROXY, "Polipo", "Polipo"},
	{FINGERPRINT_PROXY, "Varnish", "Varnish"},
	{FINGERPRINT_PROXY, "DeleGate", "DeleGate"},
	{FINGERPRINT_PROXY, "AnalogX", "AnalogX Proxy"},
	{FINGERPRINT_PROXY, "Proxy+", "Proxy+"},
	{FINGERPRINT_PROXY, "WinProxy", "WinProxy"},
	{FINGERPRINT_PROXY, "WinRoute", "Kerio WinRoute"},
	{FINGERPRINT_PROXY, "Kerio", "Kerio WinRoute"},
	{FINGERPRINT_PROXY, "ISA Server", "Microsoft ISA Server"},
	{FINGERPRINT_PROXY, "Forefront TMG", "Microsoft Forefront TMG"},
	{FINGERPRINT_PROXY, "BlueCoat", "Blue Coat ProxySG"},
	{FINGERPRINT_PROXY, "Blue Coat", "Blue Coat ProxySG"},
	{FINGERPRINT_PROXY, "Sun-Java-System-Web-Proxy", "Sun Java System Web Proxy"},
	{FINGERPRINT_PROXY, "Traffic Server", "Apache Traffic Server"},
	{FINGERPRINT_PROXY, "Apache", "Apache mod_proxy"},
	{FINGERPRINT_PROXY, "nginx", "nginx"},
	{FINGERPRINT_PROXY, "Dante", "Dante"},
	{FINGERPRINT_PROXY, "User Access Verification", "Cisco IOS"},
	{FINGERPRINT_PROXY, "Cisco", "Cisco IOS"},
};

static bool contains(const char *text, size_t len, const char *pattern)
{
	size_t plen = strlen(pattern);
	for (size_t i = 0; i + plen <= len; i++)
		if (strncasecmp(text + i, pattern, plen) == 0)
			return true;
	return false;
}

const char *fingerprint_detect(enum fingerprint_protocol protocol, const char *text, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(signatures); i++)
		if (signatures[i].protocol == protocol && contains(text, len, signatures[i].pattern))
			return signatures[i].software;
	return NULL;
}
