"""The VPC part of ``preflight check --aws`` (PF613-PF615) against moto in server mode.

Each test builds the account of examples/seed-fixed.yaml (aws_helpers.build_account), then a VPC
with moto's real EC2 emulation (subnets, route tables, an S3 gateway endpoint, a NAT gateway,
security groups) and a spec whose compute.subnets / security_group_ids name them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_helpers import (
    QuotaSession,
    build_account,
    quota_stub,
    role_policy,
    seed_quotas,
    write_spec,
)
from botocore.stub import Stubber

from preflight.aws import gather_facts
from preflight.findings import Finding, Severity
from preflight.pipeline import check_plan
from preflight.plan import Plan
from preflight.spec import load_spec

pytestmark = pytest.mark.usefixtures("aws")

REGION = "us-east-1"
VPC_RULES = ("PF613", "PF614", "PF615")


@dataclass
class Net:
    """One VPC in moto: ``private`` has only the local route, ``endpoint`` an S3 gateway
    endpoint on its route table, ``nat`` a default route to a NAT gateway; ``open_sg`` lets
    everything out (EC2's default egress rule), ``closed_sg`` only tcp 5432 to the VPC."""

    vpc: str
    private: str
    endpoint: str
    nat: str
    private_table: str
    open_sg: str
    closed_sg: str
    ec2: Any = field(repr=False)


def make_net(region: str = REGION) -> Net:
    ec2 = boto3.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    def subnet(cidr: str) -> tuple[str, str]:
        sid = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]["SubnetId"]
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=sid)
        return sid, table

    private, private_table = subnet("10.0.1.0/24")
    endpoint, endpoint_table = subnet("10.0.2.0/24")
    ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName=f"com.amazonaws.{region}.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[endpoint_table],
    )
    nat, nat_table = subnet("10.0.3.0/24")
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.4.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    gateway = ec2.create_nat_gateway(SubnetId=public, AllocationId=allocation)["NatGateway"]
    ec2.create_route(
        RouteTableId=nat_table,
        DestinationCidrBlock="0.0.0.0/0",
        NatGatewayId=gateway["NatGatewayId"],
    )
    open_sg = ec2.create_security_group(GroupName="open", Description="open", VpcId=vpc)["GroupId"]
    closed_sg = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    ec2.revoke_security_group_egress(
        GroupId=closed_sg,
        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    ec2.authorize_security_group_egress(
        GroupId=closed_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
            }
        ],
    )
    return Net(vpc, private, endpoint, nat, private_table, open_sg, closed_sg, ec2)


def vpc_spec(tmp_path: Path, subnets: list[str], groups: list[str], **compute: Any) -> Path:
    return write_spec(tmp_path, {"subnets": subnets, "security_group_ids": groups, **compute})


def run(spec: Path, session: Any = None) -> list[Finding]:
    session = session or QuotaSession({"service-quotas": quota_stub(seed_quotas())})
    return check_plan(Plan(load_spec(spec)), aws=True, aws_session=session)


def vpc_findings(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.rule in VPC_RULES]


def vpc_warnings(found: list[Finding]) -> list[Finding]:
    return [
        f
        for f in found
        if f.rule == "PF600"
        and f.field is not None
        and f.field.startswith(("compute.subnets", "compute.security_group_ids"))
    ]


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> Net:
    build_account(monkeypatch)
    return make_net()


def test_subnets_with_an_s3_endpoint_or_a_nat_route_pass(net: Net, tmp_path: Path) -> None:
    found = run(vpc_spec(tmp_path, [net.endpoint, net.nat], [net.open_sg]))
    assert vpc_findings(found) == []
    assert vpc_warnings(found) == []
    facts = gather_facts(
        Plan(load_spec(vpc_spec(tmp_path, [net.endpoint, net.nat], [net.open_sg]))),
        QuotaSession({"service-quotas": quota_stub(seed_quotas())}),
    )
    assert facts.vpc is not None
    paths = {s.id: s.s3_path for s in facts.vpc.subnets}
    assert paths[net.endpoint] is not None and paths[net.endpoint].startswith(
        "S3 gateway endpoint vpce-"
    )
    assert paths[net.nat] is not None and paths[net.nat].startswith("NAT gateway nat-")
    assert facts.vpc.security_groups[0].https_egress == "all traffic to 0.0.0.0/0"


def test_private_subnet_without_route_to_s3_is_pf614_with_the_endpoint_command(
    net: Net, tmp_path: Path
) -> None:
    found = run(vpc_spec(tmp_path, [net.endpoint, net.private], [net.open_sg]))
    (finding,) = vpc_findings(found)
    assert finding.rule == "PF614" and finding.severity is Severity.ERROR
    assert finding.field == "compute.subnets.1"
    assert finding.line is not None
    assert net.private in finding.message and net.private_table in finding.message
    assert finding.fix == (
        f"aws ec2 create-vpc-endpoint --vpc-id {net.vpc} --service-name com.amazonaws.us-east-1.s3"
        f" --route-table-ids {net.private_table} --region us-east-1"
    )


def test_subnet_on_the_vpc_main_route_table_is_judged_by_that_table(
    net: Net, tmp_path: Path
) -> None:
    # A subnet without its own association uses the main table (only the local route here) ...
    bare = net.ec2.create_subnet(VpcId=net.vpc, CidrBlock="10.0.9.0/24")["Subnet"]["SubnetId"]
    found = run(vpc_spec(tmp_path, [bare], [net.open_sg]))
    assert [f.rule for f in vpc_findings(found)] == ["PF614"]
    # ... and an S3 endpoint on the main table fixes it.
    main = net.ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [net.vpc]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"][0]["RouteTableId"]
    net.ec2.create_vpc_endpoint(
        VpcId=net.vpc,
        ServiceName="com.amazonaws.us-east-1.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[main],
    )
    assert vpc_findings(run(vpc_spec(tmp_path, [bare], [net.open_sg]))) == []


def test_internet_gateway_alone_is_no_path(net: Net, tmp_path: Path) -> None:
    """SageMaker's training ENIs get no public IP: an internet gateway route does not reach S3."""
    igw = net.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    net.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=net.vpc)
    net.ec2.create_route(
        RouteTableId=net.private_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw
    )
    [finding] = vpc_findings(run(vpc_spec(tmp_path, [net.private], [net.open_sg])))
    assert finding.rule == "PF614"
    assert f"internet gateway {igw}" in finding.message and "no public IP" in finding.message


def test_missing_ids_are_pf613_at_their_list_item(net: Net, tmp_path: Path) -> None:
    found = run(
        vpc_spec(tmp_path, [net.endpoint, "subnet-0000000000000dead"], ["sg-0000000000000beef"])
    )
    got = {(f.rule, f.field) for f in vpc_findings(found)}
    assert got == {("PF613", "compute.subnets.1"), ("PF613", "compute.security_group_ids.0")}
    messages = [f.message for f in vpc_findings(found)]
    assert any("subnet-0000000000000dead does not exist in us-east-1" in m for m in messages)
    assert all(f.severity is Severity.ERROR and f.line is not None for f in vpc_findings(found))


def test_subnet_of_another_region_is_pf613(net: Net, tmp_path: Path) -> None:
    other = make_net("eu-west-1")
    found = run(vpc_spec(tmp_path, [other.endpoint], [net.open_sg]))
    (finding,) = vpc_findings(found)
    assert finding.rule == "PF613" and finding.field == "compute.subnets.0"
    assert "another region" in finding.message


def test_subnets_in_two_vpcs_and_a_group_of_another_vpc_are_pf613(net: Net, tmp_path: Path) -> None:
    second = make_net()
    found = run(vpc_spec(tmp_path, [net.endpoint, second.endpoint], [net.open_sg]))
    (mixed,) = vpc_findings(found)
    assert mixed.rule == "PF613" and mixed.field == "compute.subnets"
    assert "2 VPCs" in mixed.message
    found = run(vpc_spec(tmp_path, [net.endpoint], [second.open_sg]))
    (foreign,) = vpc_findings(found)
    assert foreign.rule == "PF613" and foreign.field == "compute.security_group_ids.0"
    assert f"belongs to {second.vpc}" in foreign.message


def test_security_groups_without_https_egress_are_pf615(net: Net, tmp_path: Path) -> None:
    found = run(vpc_spec(tmp_path, [net.endpoint], [net.closed_sg]))
    (finding,) = vpc_findings(found)
    assert finding.rule == "PF615" and finding.severity is Severity.ERROR
    assert finding.field == "compute.security_group_ids"
    assert net.closed_sg in finding.message
    assert finding.fix is not None and f"--group-id {net.closed_sg}" in finding.fix
    # Rules of all the job's groups add up: one open group is enough.
    assert vpc_findings(run(vpc_spec(tmp_path, [net.endpoint], [net.closed_sg, net.open_sg]))) == []


def test_https_to_the_s3_prefix_list_is_enough(net: Net, tmp_path: Path) -> None:
    s3_list = net.ec2.describe_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": ["com.amazonaws.us-east-1.s3"]}]
    )["PrefixLists"][0]["PrefixListId"]
    net.ec2.authorize_security_group_egress(
        GroupId=net.closed_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "PrefixListIds": [{"PrefixListId": s3_list}],
            }
        ],
    )
    found = run(vpc_spec(tmp_path, [net.endpoint], [net.closed_sg]))
    assert vpc_findings(found) == []
    assert vpc_warnings(found) == []


class DeniedEc2Session(QuotaSession):
    """Quotas stubbed as usual; EC2 answers UnauthorizedOperation to the given operations."""

    def __init__(self, denied: list[str]) -> None:
        super().__init__({"service-quotas": quota_stub(seed_quotas())})
        self.denied = denied
        self.asked_ec2 = False

    def client(self, service: str, **kwargs: Any) -> Any:
        client = super().client(service, **kwargs)
        if service == "ec2":
            self.asked_ec2 = True
            real = self.session.client(service, **kwargs)
            stubber = Stubber(client)
            for operation in self.denied:
                stubber.add_client_error(
                    operation,
                    service_error_code="UnauthorizedOperation",
                    service_message="You are not authorized to perform this operation.",
                    http_status_code=403,
                )
            stubber.activate()
            self.stubbers.append(stubber)
            return _Partial(client, real, set(self.denied))
        return client


class _Partial:
    """The stubbed client for the denied operations, the real one (moto) for the others."""

    def __init__(self, stubbed: Any, real: Any, denied: set[str]) -> None:
        self._stubbed, self._real, self._denied = stubbed, real, denied

    def can_paginate(self, operation: str) -> bool:
        return False  # one call each, so a stubbed error is met exactly once

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stubbed if name in self._denied else self._real, name)


def test_what_ec2_does_not_answer_is_a_pf600_warning_not_a_pass(net: Net, tmp_path: Path) -> None:
    spec = vpc_spec(tmp_path, [net.private], [net.closed_sg])
    found = run(spec, DeniedEc2Session(["describe_subnets", "describe_security_groups"]))
    assert vpc_findings(found) == []
    warnings = vpc_warnings(found)
    assert {f.field for f in warnings} == {"compute.subnets", "compute.security_group_ids"}
    assert all(f.severity is Severity.WARNING for f in warnings)
    assert all("could not check" in f.message and "access denied" in f.message for f in warnings)

    found = run(spec, DeniedEc2Session(["describe_route_tables"]))
    assert [f.rule for f in vpc_findings(found)] == ["PF615"]  # the groups were still read
    (routes,) = vpc_warnings(found)
    assert "whether the job's subnets can reach S3" in routes.message


def test_without_vpc_keys_the_audit_asks_ec2_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build_account(monkeypatch)
    session = DeniedEc2Session([])
    facts = gather_facts(Plan(load_spec(write_spec(tmp_path))), session)
    assert facts.unavailable is None
    assert facts.vpc is None
    assert session.asked_ec2 is False
    assert not any(f.rule in VPC_RULES for f in run(write_spec(tmp_path)))


def test_vpc_job_role_needs_the_ec2_network_interface_actions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build_account(monkeypatch)  # the least-privilege role of the other tests: no EC2 actions
    net = make_net()
    found = run(vpc_spec(tmp_path, [net.endpoint], [net.open_sg]))
    ec2 = [f for f in found if f.rule == "PF605" and f.field == "compute.subnets"]
    assert ec2 and "ec2:CreateNetworkInterface" in " ".join(f.message + (f.fix or "") for f in ec2)


def test_vpc_job_role_with_ec2_actions_passes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    doc = role_policy()
    doc["Statement"].append(
        {"Effect": "Allow", "Action": ["ec2:*NetworkInterface*", "ec2:Describe*"], "Resource": "*"}
    )
    build_account(monkeypatch, role_doc=doc)
    net = make_net()
    found = run(vpc_spec(tmp_path, [net.endpoint], [net.open_sg]))
    assert not [f for f in found if f.rule == "PF605" and f.field == "compute.subnets"]
