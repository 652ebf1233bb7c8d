import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** A source address Twindex will not connect to; the message is ours, short, and safe for run reports and logs. */
export class AddressRefused extends Error {
  override name = 'AddressRefused';
}

type Resolver = (hostname: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    ),
  );

/**
 * Server-side request forgery guard for sync sources. An upstream address must be public unicast: loopback,
 * link-local (cloud metadata at 169.254.169.254 included), private, carrier-grade NAT, multicast, unspecified and
 * every other reserved IPv4 or IPv6 range is refused — IPv4-mapped and IPv4-embedding IPv6 forms included, since
 * `ipaddr.js` classifies them as non-unicast. Decimal and hexadecimal IPv4 spellings (`http://2130706433/`) are
 * normalised by the URL parser before this sees them.
 *
 * The operator may allow more with SYNC_ALLOWED_HOSTS: host names (as written in base_url, any case), IP addresses
 * and CIDR ranges, comma separated. Checked when a source is created or changed, and again at every connection
 * (`lookup` below), because DNS may answer differently later: the connection goes to the address that was checked.
 */
export class UpstreamAddressPolicy {
  private readonly names = new Set<string>();
  private readonly ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];

  constructor(
    allowed: readonly string[] = [],
    private readonly resolver: Resolver = systemResolver,
  ) {
    for (const raw of allowed) {
      const entry = raw
        .trim()
        .toLowerCase()
        .replace(/^\[(.*)\]$/, '$1');
      if (!entry) continue;
      if (entry.includes('/')) this.ranges.push(ipaddr.parseCIDR(entry));
      else if (ipaddr.isValid(entry)) {
        const address = ipaddr.parse(entry);
        this.ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
      } else this.names.add(entry);
    }
  }

  /** SYNC_ALLOWED_HOSTS as configured; throws on a malformed CIDR (the config loader reports it). */
  static fromList(list: string | undefined, resolver?: Resolver): UpstreamAddressPolicy {
    return new UpstreamAddressPolicy((list ?? '').split(','), resolver);
  }

  /**
   * Creation and update time: the URL's host, resolved now. A name that does not resolve yet is accepted (DNS is
   * checked again at every connection); one that resolves to a refused address is not.
   */
  async checkUrl(baseUrl: string): Promise<void> {
    const host = hostOf(baseUrl);
    if (this.names.has(host)) return;
    if (isIP(host)) return this.checkAddress(host);
    let addresses: LookupAddress[];
    try {
      addresses = await this.resolver(host);
    } catch {
      return;
    }
    for (const a of addresses) this.checkAddress(a.address);
  }

  /** Send time, for an IP literal host (no DNS lookup happens for it, so `lookup` never sees it). */
  checkLiteral(url: URL): void {
    const host = stripBrackets(url.hostname.toLowerCase());
    if (this.names.has(host) || !isIP(host)) return;
    this.checkAddress(host);
  }

  /** Throws AddressRefused unless the address is public unicast or allowed by the operator. */
  checkAddress(text: string): void {
    let address = ipaddr.parse(text);
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
      address = (address as ipaddr.IPv6).toIPv4Address();
    }
    const range = address.range();
    if (range === 'unicast') return;
    if (this.ranges.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits))) return;
    throw new AddressRefused(
      `address ${address.toString()} is ${range}: not allowed as a sync source (SYNC_ALLOWED_HOSTS can allow it)`,
    );
  }

  /**
   * A `lookup` for net/tls connect: resolves, refuses the connection if any address is refused, and hands the
   * socket exactly the checked addresses, so nothing resolves the name again between check and connect.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const host = stripBrackets(hostname.toLowerCase());
    this.resolver(host).then(
      (addresses) => {
        try {
          if (!this.names.has(host)) for (const a of addresses) this.checkAddress(a.address);
        } catch (e) {
          return callback(e as NodeJS.ErrnoException, '', 0);
        }
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = wanted ? addresses.filter((a) => a.family === wanted) : addresses;
        if (usable.length === 0) {
          const err = Object.assign(new Error(`no address for ${host}`), { code: 'ENOTFOUND' });
          return callback(err, '', 0);
        }
        if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, usable);
        else callback(null, usable[0].address, usable[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

function hostOf(baseUrl: string): string {
  return stripBrackets(new URL(baseUrl).hostname.toLowerCase());
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
