"""VPC facts for a job with ``compute.subnets`` / ``compute.security_group_ids``, read-only (EC2).

A training job in a VPC reaches S3 (data download, checkpoint sync, model upload) only through
its subnets' routes: an S3 gateway endpoint on the subnet's route table, or a default route
(0.0.0.0/0) to a NAT gateway or internet gateway. Without one, the job hangs downloading its data
or never syncs a checkpoint. Its security groups must also let HTTPS (443) out, to anywhere or
to the S3 prefix list. Calls (EC2 API reference): DescribeSubnets, DescribeSecurityGroups,
DescribeRouteTables, DescribeVpcEndpoints, DescribePrefixLists; filters select the spec's ids so
that an id that does not exist is simply absent from the answer.
"""

from __future__ import annotations

from typing import Any

from .facts import SecurityGroupFacts, SubnetFacts, Unchecked, VpcFacts
from .session import Clients, describe_error, is_global

SUBNETS = "compute.subnets"
GROUPS = "compute.security_group_ids"
ANYWHERE = "0.0.0.0/0"
HTTPS = 443
_GONE = {"deleted", "deleting", "rejected", "failed", "expired"}


def s3_service(region: str) -> str:
    """The S3 endpoint service name of a region (``com.amazonaws.REGION.s3``)."""
    return f"com.amazonaws.{region}.s3"


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    if client.can_paginate(operation):
        out: list[dict[str, Any]] = []
        for page in client.get_paginator(operation).paginate(**kwargs):
            out.extend(page.get(key, []))
        return out
    return list(getattr(client, operation)(**kwargs).get(key, []))


def gather_vpc(
    clients: Clients, region: str, subnet_ids: list[str], group_ids: list[str]
) -> VpcFacts:
    """What the job's subnets and security groups are, and whether S3 is reachable from them."""
    facts = VpcFacts(
        subnets=[SubnetFacts(i) for i in subnet_ids],
        security_groups=[SecurityGroupFacts(i) for i in group_ids],
    )
    ec2 = clients.get("ec2")
    try:
        found = _pages(
            ec2,
            "describe_subnets",
            "Subnets",
            Filters=[{"Name": "subnet-id", "Values": subnet_ids}],
        )
    except Exception as exc:
        if is_global(exc):
            raise
        facts.unchecked.append((SUBNETS, Unchecked("the job's subnets", describe_error(exc))))
        found = None
    if found is not None:
        by_id = {s.get("SubnetId"): s for s in found}
        for subnet in facts.subnets:
            raw = by_id.get(subnet.id)
            subnet.exists = raw is not None
            if raw is not None:
                subnet.vpc_id = raw.get("VpcId")
                subnet.availability_zone = raw.get("AvailabilityZone")

    groups: list[dict[str, Any]] | None
    try:
        groups = _pages(
            ec2,
            "describe_security_groups",
            "SecurityGroups",
            Filters=[{"Name": "group-id", "Values": group_ids}],
        )
    except Exception as exc:
        if is_global(exc):
            raise
        facts.unchecked.append(
            (GROUPS, Unchecked("the job's security groups", describe_error(exc)))
        )
        groups = None
    if groups is not None:
        _judge_groups(facts, groups, ec2, region)

    vpcs = facts.vpc_ids
    if vpcs:
        _judge_routes(facts, ec2, region, vpcs)
    return facts


def _judge_groups(facts: VpcFacts, groups: list[dict[str, Any]], ec2: Any, region: str) -> None:
    by_id = {g.get("GroupId"): g for g in groups}
    pending: list[tuple[SecurityGroupFacts, set[str]]] = []
    for group in facts.security_groups:
        raw = by_id.get(group.id)
        group.exists = raw is not None
        if raw is None:
            continue
        group.vpc_id = raw.get("VpcId")
        lists: set[str] = set()
        for perm in raw.get("IpPermissionsEgress", []):
            if not _covers_https(perm):
                continue
            if any(r.get("CidrIp") == ANYWHERE for r in perm.get("IpRanges", [])):
                group.https_egress = f"{_port_text(perm)} to {ANYWHERE}"
                break
            lists.update(p["PrefixListId"] for p in perm.get("PrefixListIds", []) if p)
        if group.https_egress is None and lists:
            pending.append((group, lists))
    facts.https_egress_checked = True
    if not pending or any(g.https_egress for g in facts.security_groups):
        return
    # Only prefix-list rules could allow it: is one of them the S3 list of this region?
    try:
        s3_lists = {
            p.get("PrefixListId")
            for p in _pages(
                ec2,
                "describe_prefix_lists",
                "PrefixLists",
                Filters=[{"Name": "prefix-list-name", "Values": [s3_service(region)]}],
            )
        }
    except Exception as exc:
        if is_global(exc):
            raise
        facts.https_egress_checked = False
        facts.unchecked.append(
            (
                GROUPS,
                Unchecked(
                    f"whether the prefix lists in the security groups' egress are {s3_service(region)}",
                    describe_error(exc),
                ),
            )
        )
        return
    for group, lists in pending:
        hit = sorted(lists & s3_lists)
        if hit:
            group.https_egress = f"port 443 to the S3 prefix list {hit[0]}"


def _covers_https(perm: dict[str, Any]) -> bool:
    proto = str(perm.get("IpProtocol", ""))
    if proto in ("-1", "all"):
        return True
    if proto not in ("tcp", "6"):
        return False
    low, high = perm.get("FromPort"), perm.get("ToPort")
    if low is None or high is None:
        return False
    return int(low) <= HTTPS <= int(high) or (int(low) == -1 and int(high) == -1)


def _port_text(perm: dict[str, Any]) -> str:
    if str(perm.get("IpProtocol")) in ("-1", "all"):
        return "all traffic"
    return f"tcp {perm.get('FromPort')}-{perm.get('ToPort')}"


def _judge_routes(facts: VpcFacts, ec2: Any, region: str, vpcs: list[str]) -> None:
    try:
        tables = _pages(
            ec2,
            "describe_route_tables",
            "RouteTables",
            Filters=[{"Name": "vpc-id", "Values": vpcs}],
        )
        endpoints = _pages(
            ec2,
            "describe_vpc_endpoints",
            "VpcEndpoints",
            Filters=[
                {"Name": "vpc-id", "Values": vpcs},
                {"Name": "service-name", "Values": [s3_service(region)]},
            ],
        )
    except Exception as exc:
        if is_global(exc):
            raise
        facts.unchecked.append(
            (
                SUBNETS,
                Unchecked(
                    "whether the job's subnets can reach S3 (route tables, endpoints)",
                    describe_error(exc),
                ),
            )
        )
        return
    explicit: dict[str, dict[str, Any]] = {}
    main: dict[str, dict[str, Any]] = {}
    for table in tables:
        for assoc in table.get("Associations", []):
            if assoc.get("SubnetId"):
                explicit[assoc["SubnetId"]] = table
            if assoc.get("Main"):
                main[table.get("VpcId", "")] = table
    gateway_on: dict[str, str] = {}
    for ep in endpoints:
        if ep.get("VpcEndpointType", "Gateway") != "Gateway":
            continue
        if str(ep.get("State", "available")).lower() in _GONE:
            continue
        if ep.get("ServiceName") not in (None, s3_service(region)):
            continue
        for table_id in ep.get("RouteTableIds", []):
            gateway_on[table_id] = str(ep.get("VpcEndpointId"))
    for subnet in facts.subnets:
        if not subnet.exists or not subnet.vpc_id:
            continue
        chosen = explicit.get(subnet.id) or main.get(subnet.vpc_id)
        if chosen is None:
            facts.unchecked.append(
                (
                    SUBNETS,
                    Unchecked(f"whether {subnet.id} can reach S3", "no route table found for it"),
                )
            )
            continue
        subnet.route_table_id = chosen.get("RouteTableId")
        endpoint = gateway_on.get(str(subnet.route_table_id))
        if endpoint:
            subnet.s3_path, subnet.s3_reachable = f"S3 gateway endpoint {endpoint}", True
            continue
        path, other = _default_route(chosen.get("Routes", []))
        if path and path.startswith("internet gateway"):
            # SageMaker's training network interfaces get no public IP, so an internet gateway
            # alone gives them no way out: only an S3 gateway endpoint or a NAT gateway does.
            subnet.s3_path, subnet.s3_reachable = path, False
        elif path:
            subnet.s3_path, subnet.s3_reachable = path, True
        elif other:
            facts.unchecked.append(
                (
                    SUBNETS,
                    Unchecked(
                        f"whether {subnet.id} can reach S3",
                        f"its default route goes to {other}, which the audit cannot follow",
                    ),
                )
            )
        else:
            subnet.s3_reachable = False


def _default_route(routes: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """(NAT / internet gateway path, other default-route target) of a route table."""
    other: str | None = None
    for route in routes:
        if route.get("DestinationCidrBlock") != ANYWHERE:
            continue
        if str(route.get("State", "active")).lower() == "blackhole":
            continue
        if route.get("NatGatewayId"):
            return f"NAT gateway {route['NatGatewayId']}", None
        gateway = str(route.get("GatewayId") or "")
        if gateway.startswith("igw-"):
            return f"internet gateway {gateway}", None
        for key in (
            "TransitGatewayId",
            "NetworkInterfaceId",
            "VpcPeeringConnectionId",
            "GatewayId",
            "InstanceId",
        ):
            if route.get(key):
                other = str(route[key])
                break
    return None, other
